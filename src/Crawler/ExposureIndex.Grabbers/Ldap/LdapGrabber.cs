using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Ldap;

/// <summary>
/// LDAP: one search of the root DSE (RFC 4512 §5.1: base "", scope baseObject, filter (objectClass=*)) asking for
/// all user and operational attributes ("*" and "+", RFC 3673), with no bind first. A search without a bind is
/// not authentication: the root DSE exists to be read before binding. Then an UnbindRequest, and we close.
/// </summary>
internal sealed class LdapGrabber : IGrabber
{
    private const int MessageId = 1;

    public string Name => "ldap";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["ldap", "ldapssl", "ssl/ldap"];

    public IReadOnlyList<int> Ports { get; } = [389, 3268];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var record = new ServiceRecord { Module = Name, Ldap = new LdapSection() };
        return GrabGuard.RunAsync(context, "the LDAP grab", record, async deadline =>
        {
            await using var connection = await context.ConnectAsync(deadline).ConfigureAwait(false);
            await connection.WriteAsync(BuildRootDseSearch(MessageId), deadline).ConfigureAwait(false);
            var parser = new LdapParser();
            var read = await connection.ReadParsedAsync(parser, context.Limits.MaxBytesPerConnection, deadline).ConfigureAwait(false);
            if (read.Status != ParseStatus.Complete || parser.Result is not { } result)
            {
                return read.ToFailure(record, parser.Error ?? "no LDAP search result", maxData: 4096);
            }

            if (!result.Disconnected)
            {
                try
                {
                    // RFC 4511 §4.3: UnbindRequest ::= [APPLICATION 2] NULL; the polite way to leave.
                    await connection.WriteAsync(Ber.Encode(Ber.Sequence, Ber.EncodeInteger(MessageId + 1), [0x42, 0x00]), deadline).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is GrabLimitException or IOException)
                {
                    // The answer is in; a server that already closed changes nothing.
                }
            }

            Describe(record, result);
            return GrabResult.Success(record);
        }, cancellationToken);
    }

    internal static void Describe(ServiceRecord record, LdapResult result)
    {
        var section = record.Ldap ??= new LdapSection();
        section.ResultCode = result.ResultCode;
        section.ErrorMessage = result.DiagnosticMessage;
        var data = new StringBuilder();
        if (result.RootDse is { } dse)
        {
            section.NamingContexts.AddRange(dse.Values("namingContexts"));
            section.SupportedLdapVersion.AddRange(dse.Values("supportedLDAPVersion"));
            section.SupportedSaslMechanisms.AddRange(dse.Values("supportedSASLMechanisms"));
            section.SupportedControl.AddRange(dse.Values("supportedControl"));
            section.SupportedExtension.AddRange(dse.Values("supportedExtension"));
            section.SupportedFeatures.AddRange(dse.Values("supportedFeatures"));
            section.VendorName = dse.First("vendorName") ?? string.Empty;
            section.VendorVersion = dse.First("vendorVersion") ?? string.Empty;
            section.SubschemaSubentry = dse.First("subschemaSubentry") ?? string.Empty;
            section.ObjectClass.AddRange(dse.Values("objectClass"));
            section.StructuralObjectClass = dse.First("structuralObjectClass") ?? string.Empty;
            section.DefaultNamingContext = dse.First("defaultNamingContext") ?? string.Empty;
            section.DnsHostName = dse.First("dnsHostName") ?? string.Empty;
            section.ServerName = dse.First("serverName") ?? string.Empty;
            section.RootDomainNamingContext = dse.First("rootDomainNamingContext") ?? string.Empty;
            section.DomainFunctionality = dse.First("domainFunctionality") ?? string.Empty;
            section.ForestFunctionality = dse.First("forestFunctionality") ?? string.Empty;
            section.DomainControllerFunctionality = dse.First("domainControllerFunctionality") ?? string.Empty;
            section.SupportedCapabilities.AddRange(dse.Values("supportedCapabilities"));
            section.ConfigContext = dse.First("configContext") ?? string.Empty;

            // Shodan shows the root DSE as LDIF-like "name: value" lines.
            data.Append("dn: ").Append(dse.Dn).Append('\n');
            foreach (var attribute in dse.Attributes)
            {
                foreach (var value in attribute.Values)
                {
                    data.Append(attribute.Name).Append(": ").Append(value).Append('\n');
                }
            }
        }

        data.Append(CultureInfo.InvariantCulture, $"\nresult: {result.ResultCode} {result.ResultName}");
        if (result.DiagnosticMessage.Length > 0)
        {
            data.Append(" (").Append(result.DiagnosticMessage).Append(')');
        }

        record.Data = ByteString.CopyFromUtf8(data.Append('\n').ToString());
        if (LdapProducts.TryIdentify(section, out var product))
        {
            product.ApplyTo(record);
        }
    }

    /// <summary>
    /// LDAPMessage { messageID, SearchRequest [APPLICATION 3] { baseObject "", scope baseObject(0), derefAliases
    /// neverDerefAliases(0), sizeLimit 1, timeLimit 10, typesOnly FALSE, filter present [7] "objectClass",
    /// attributes { "*", "+" } } } (RFC 4511 §4.5.1).
    /// </summary>
    internal static byte[] BuildRootDseSearch(int messageId)
    {
        var search = Ber.Encode(
            0x63,
            Ber.Encode(Ber.OctetString, ReadOnlySpan<byte>.Empty),
            Ber.Encode(Ber.Enumerated, [0x00]),
            Ber.Encode(Ber.Enumerated, [0x00]),
            Ber.EncodeInteger(1),
            Ber.EncodeInteger(10),
            Ber.Encode(Ber.Boolean, [0x00]),
            Ber.Encode(0x87, "objectClass"u8),
            Ber.Encode(Ber.Sequence, Ber.EncodeOctetString("*"), Ber.EncodeOctetString("+")));
        return Ber.Encode(Ber.Sequence, Ber.EncodeInteger(messageId), search);
    }
}

/// <summary>
/// Directory products from root DSE evidence: vendorName/vendorVersion (RFC 3045) when present; otherwise the
/// marks a product leaves in its root DSE (OpenLDAP's OpenLDAProotDSE object class, Active Directory's
/// capability OIDs). No version is claimed where the server does not state one.
/// </summary>
internal static partial class LdapProducts
{
    /// <summary>LDAP_CAP_ACTIVE_DIRECTORY_OID (MS-ADTS §3.1.1.3.4.3).</summary>
    private const string ActiveDirectoryCapability = "1.2.840.113556.1.4.800";

    /// <summary>LDAP_CAP_ACTIVE_DIRECTORY_ADAM_OID: AD LDS.</summary>
    private const string AdamCapability = "1.2.840.113556.1.4.1851";

    public static bool TryIdentify(LdapSection section, out ProductMatch product)
    {
        product = null!;
        if (section.SupportedCapabilities.Contains(ActiveDirectoryCapability))
        {
            product = new ProductMatch("Microsoft Windows Active Directory LDAP", null, null, "Windows", Cpe.Application("microsoft", "active_directory", null));
            return true;
        }

        if (section.SupportedCapabilities.Contains(AdamCapability))
        {
            product = new ProductMatch("Microsoft Active Directory Lightweight Directory Services", null, null, "Windows", Cpe.Application("microsoft", "active_directory_lightweight_directory_services", null));
            return true;
        }

        if (section.ObjectClass.Any(c => c.Equals("OpenLDAProotDSE", StringComparison.OrdinalIgnoreCase))
            || section.StructuralObjectClass.Equals("OpenLDAProotDSE", StringComparison.OrdinalIgnoreCase))
        {
            product = new ProductMatch("OpenLDAP", null, null, null, Cpe.Application("openldap", "openldap", null));
            return true;
        }

        var vendor = section.VendorName.Trim();
        var vendorVersion = section.VendorVersion.Trim();
        if (vendor.Length == 0 && vendorVersion.Length == 0)
        {
            return false;
        }

        var version = VersionNumber().Match(vendorVersion) is { Success: true } m ? m.Value : null;
        if (vendorVersion.StartsWith("389-Directory", StringComparison.OrdinalIgnoreCase) || vendor.StartsWith("389 Project", StringComparison.OrdinalIgnoreCase))
        {
            product = new ProductMatch("389 Directory Server", version, null, null, Cpe.Application("port389", "389-ds-base", version));
        }
        else if (vendorVersion.StartsWith("ApacheDS", StringComparison.OrdinalIgnoreCase) || vendor.Contains("Apache Software Foundation", StringComparison.OrdinalIgnoreCase))
        {
            product = new ProductMatch("ApacheDS", version, null, null, Cpe.Application("apache", "apacheds", version));
        }
        else if (vendorVersion.StartsWith("OpenDJ", StringComparison.OrdinalIgnoreCase))
        {
            product = new ProductMatch("OpenDJ", version, null, null, Cpe.Application("forgerock", "opendj", version));
        }
        else if (vendor.StartsWith("Novell", StringComparison.OrdinalIgnoreCase) || vendor.StartsWith("NetIQ", StringComparison.OrdinalIgnoreCase))
        {
            product = new ProductMatch("NetIQ eDirectory", version, null, null, Cpe.Application("netiq", "edirectory", version));
        }
        else
        {
            var name = vendor.Length > 0 ? vendor : vendorVersion;
            product = new ProductMatch(name, version, null, null, Cpe.Application(name, name, version));
        }

        return true;
    }

    [GeneratedRegex(@"\d+(?:\.\d+)+", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex VersionNumber();
}
