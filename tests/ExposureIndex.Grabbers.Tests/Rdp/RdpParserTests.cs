using ExposureIndex.Grabbers.Rdp;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Rdp;

public sealed class RdpParserTests
{
    private static byte[] Fixture(string name) => ProtocolFixtures.Read("Rdp", name);

    [Fact]
    public void Feed_XrdpOfferedTls_NegotiationResponseSelectingSsl()
    {
        var result = ParserFeeding.AllWays(() => new RdpParser(), Fixture("xrdp-neg-rsp-ssl.bin"), canonical: r => r.Canonical());

        Assert.Equal(RdpReplyKind.ConnectionConfirm, result.Kind);
        Assert.Equal(2, result.NegotiationType);
        Assert.Equal(RdpGrabber.ProtocolSsl, result.SelectedProtocol);
        Assert.Equal(0x01, result.Flags);
        Assert.Equal(0x1234, result.SourceReference);
    }

    [Fact]
    public void Feed_XrdpOfferedNothing_StandardRdpSecurity()
    {
        var result = ParserFeeding.AllWays(() => new RdpParser(), Fixture("xrdp-neg-rsp-rdp.bin"), canonical: r => r.Canonical());

        Assert.Equal(2, result.NegotiationType);
        Assert.Equal(0u, result.SelectedProtocol);
    }

    [Fact]
    public void Feed_XrdpOfferedRdstls_DisconnectUltimatum()
    {
        var result = ParserFeeding.AllWays(() => new RdpParser(), Fixture("xrdp-disconnect-on-rdstls.bin"), canonical: r => r.Canonical());

        Assert.Equal(RdpReplyKind.DisconnectUltimatum, result.Kind);
    }

    [Fact]
    public void Feed_NegotiationFailure_FailureCode()
    {
        var result = ParserFeeding.AllWays(() => new RdpParser(), Fixture("synthetic-neg-failure-hybrid-required.bin"), canonical: r => r.Canonical());

        Assert.Equal(3, result.NegotiationType);
        Assert.Equal(5u, result.FailureCode);
        Assert.Equal("HYBRID_REQUIRED_BY_SERVER", RdpGrabber.FailureName(result.FailureCode));
    }

    [Fact]
    public void Feed_LegacyConfirmWithoutNegotiation_NegotiationTypeZero()
    {
        var result = ParserFeeding.AllWays(() => new RdpParser(), Fixture("synthetic-legacy-confirm-no-negotiation.bin"), canonical: r => r.Canonical());

        Assert.Equal(RdpReplyKind.ConnectionConfirm, result.Kind);
        Assert.Equal(0, result.NegotiationType);
    }

    [Theory]
    [InlineData("xrdp-neg-rsp-ssl.bin")]
    [InlineData("xrdp-neg-rsp-rdp.bin")]
    [InlineData("xrdp-disconnect-on-rdstls.bin")]
    [InlineData("synthetic-neg-failure-hybrid-required.bin")]
    public void Feed_EveryPrefix_NeedsMore(string fixture) => ParserFeeding.PrefixesNeedMore(() => new RdpParser(), Fixture(fixture));

    [Theory]
    [InlineData("hostile-tpkt-length-over-cap.bin", "cap")]
    [InlineData("garbage-ssh-banner.bin", "not RDP")]
    public void Feed_HostileOrGarbage_Invalid(string fixture, string expected)
    {
        var parser = new RdpParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture(fixture)));
        Assert.Contains(expected, parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildConnectionRequest_TlsAndCredSsp_TheMstscBytes()
        => Assert.Equal("030000130ee00000000000010008000b000000", Convert.ToHexStringLower(RdpGrabber.BuildConnectionRequest(RdpGrabber.Requested)));

    [Fact]
    public void FlagNames_Windows10Flags_AllNamed()
        => Assert.Equal(["EXTENDED_CLIENT_DATA_SUPPORTED", "DYNVC_GFX_PROTOCOL_SUPPORTED", "NEGRSP_FLAG_RESERVED", "RESTRICTED_ADMIN_MODE_SUPPORTED", "REDIRECTED_AUTHENTICATION_MODE_SUPPORTED"], RdpGrabber.FlagNames(0x1F));
}
