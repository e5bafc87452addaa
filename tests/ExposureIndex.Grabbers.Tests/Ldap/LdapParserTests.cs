using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Ldap;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Ldap;

public sealed class LdapParserTests
{
    private static byte[] Fixture(string name) => ProtocolFixtures.Read("Ldap", name);

    [Fact]
    public void Feed_OpenLdapRootDse_EntryThenSuccess()
    {
        var result = ParserFeeding.AllWays(() => new LdapParser(), Fixture("openldap-rootdse.bin"), canonical: r => r.Canonical());

        Assert.Equal(1, result.MessageId);
        Assert.Equal(0, result.ResultCode);
        Assert.Equal("success", result.ResultName);
        var dse = Assert.Single(result.Entries);
        Assert.Equal(string.Empty, dse.Dn);
        Assert.Equal(["dc=exposureindex,dc=test"], dse.Values("namingContexts"));
        Assert.Equal(["3"], dse.Values("supportedLDAPVersion"));
        Assert.Equal(["top", "OpenLDAProotDSE"], dse.Values("objectClass"));
        Assert.Equal("cn=Subschema", dse.First("subschemaSubentry"));
        Assert.Contains("SCRAM-SHA-256", dse.Values("supportedSASLMechanisms"));
        Assert.Equal(dse.Values("namingcontexts"), dse.Values("namingContexts")); // attribute names are case-insensitive
    }

    [Fact]
    public void Feed_EveryPrefix_NeedsMore() => ParserFeeding.PrefixesNeedMore(() => new LdapParser(), Fixture("openldap-rootdse.bin"));

    [Fact]
    public void Feed_NoticeOfDisconnection_CompleteWithItsReason()
    {
        var result = ParserFeeding.AllWays(() => new LdapParser(), Fixture("synthetic-notice-of-disconnection.bin"), canonical: r => r.Canonical());

        Assert.True(result.Disconnected);
        Assert.Equal(52, result.ResultCode);
        Assert.Equal("server is shutting down", result.DiagnosticMessage);
        Assert.Empty(result.Entries);
    }

    [Fact]
    public void Feed_LengthBomb_InvalidFromTheHeaderAlone()
    {
        var parser = new LdapParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture("hostile-length-bomb.bin").AsSpan(0, 6)));
        Assert.Contains("cap", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_FiveThousandValues_KeepsTheCap()
    {
        var result = ParserFeeding.AllWays(() => new LdapParser(), Fixture("hostile-value-flood.bin"), randomSplits: 3, canonical: r => r.Canonical());

        Assert.Equal(LdapParser.MaxValuesPerAttribute, result.Entries[0].Values("namingContexts").Count);
    }

    [Fact]
    public void Feed_EndlessReferences_InvalidAfterTheMessageCap()
    {
        var parser = new LdapParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture("hostile-endless-references.bin")));
        Assert.Contains("without a SearchResultDone", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_BindResponseInsteadOfASearchResult_Invalid()
    {
        // LDAPMessage { 1, BindResponse [APPLICATION 1] { success, "", "" } }
        var parser = new LdapParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Convert.FromHexString("300c02010161070a010004000400")));
        Assert.Contains("not a search response", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void End_BeforeTheSearchResultDone_Invalid()
    {
        var fixture = Fixture("openldap-rootdse.bin");
        var parser = new LdapParser();
        parser.Feed(fixture.AsSpan(0, fixture.Length - 14));

        Assert.Equal(ParseStatus.Invalid, parser.End());
        Assert.Contains("before SearchResultDone", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildRootDseSearch_MessageOne_MatchesAnIndependentEncoding()
        => Assert.Equal(
            "302b020101632604000a01000a010002010102010a010100870b6f626a656374436c617373300604012a04012b",
            Convert.ToHexStringLower(LdapGrabber.BuildRootDseSearch(1)));

    [Fact]
    public void TryIdentify_ActiveDirectoryCapability_MicrosoftWithoutVersion()
    {
        var section = new LdapSection { SupportedCapabilities = { "1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1670" } };

        Assert.True(LdapProducts.TryIdentify(section, out var product));
        Assert.Equal("Microsoft Windows Active Directory LDAP", product.Product);
        Assert.Null(product.Version);
        Assert.Equal("Windows", product.Os);
    }

    [Theory]
    [InlineData("389 Project", "389-Directory/2.3.4 B2023.123.0000", "389 Directory Server", "2.3.4")]
    [InlineData("Apache Software Foundation", "2.0.0.AM26", "ApacheDS", "2.0.0")]
    [InlineData("ForgeRock AS.", "OpenDJ 3.0.0", "OpenDJ", "3.0.0")]
    [InlineData("Novell, Inc.", "LDAP Agent for NetIQ eDirectory 9.2.4 (40204.00)", "NetIQ eDirectory", "9.2.4")]
    public void TryIdentify_VendorAttributes_ProductAndVersion(string vendorName, string vendorVersion, string expectedProduct, string expectedVersion)
    {
        var section = new LdapSection { VendorName = vendorName, VendorVersion = vendorVersion };

        Assert.True(LdapProducts.TryIdentify(section, out var product));
        Assert.Equal(expectedProduct, product.Product);
        Assert.Equal(expectedVersion, product.Version);
    }

    [Fact]
    public void TryIdentify_NothingDistinctive_NoProduct() => Assert.False(LdapProducts.TryIdentify(new LdapSection { NamingContexts = { "dc=example" } }, out _));
}
