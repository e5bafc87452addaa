using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Snmp;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Snmp;

public sealed class SnmpGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void BuildGet_SystemGroupAndVersionTag_MatchesAnIndependentEncoding()
    {
        // Encoded independently with a few lines of Python (definite short-form BER), request-id 0x1234.
        const string expected = "307d02010104067075626c6963a070020212340201000201003064300c06082b060102010101000500300c06082b060102010102000500"
            + "300c06082b060102010103000500300c06082b060102010104000500300c06082b060102010105000500300c06082b060102010106000500"
            + "300e060a2b060104018f656402000500";

        Assert.Equal(expected, Convert.ToHexStringLower(SnmpGrabber.BuildGet(0x1234, SnmpGrabber.Community, SnmpGrabber.RequestedOids)));
    }

    /// <summary>The captured reply re-encoded around the request's own request-id (the agent echoes it, RFC 3416 §4.2).</summary>
    private static byte[] Reply(byte[] request, string fixture)
    {
        var requestPdu = new BerReader(new BerReader(request, "request").Read(Ber.Sequence, "message"), "request");
        requestPdu.ReadInteger("version");
        requestPdu.ReadString("community", 64);
        var requestId = new BerReader(requestPdu.Read(0xA0, "pdu"), "pdu").ReadInteger("request-id");

        var captured = new BerReader(new BerReader(ProtocolFixtures.Read("Snmp", fixture), "reply").Read(Ber.Sequence, "message"), "reply");
        captured.ReadInteger("version");
        captured.ReadString("community", 64);
        var pdu = new BerReader(captured.Read(0xA2, "pdu"), "pdu");
        pdu.ReadInteger("request-id");
        pdu.ReadInteger("error-status");
        pdu.ReadInteger("error-index");
        var bindings = pdu.Read(Ber.Sequence, "bindings").ToArray();
        return Ber.Encode(Ber.Sequence, Ber.EncodeInteger(1), Ber.EncodeOctetString("public"), Ber.Encode(0xA2, Ber.EncodeInteger(requestId), Ber.EncodeInteger(0), Ber.EncodeInteger(0), Ber.Encode(Ber.Sequence, bindings)));
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_NetSnmpAgent_ProductVersionOsAndSystemGroup()
    {
        await using var server = UdpTestServer.Start(request => [Reply(request, "netsnmp-get-full-view.bin")]);

        var result = await new SnmpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        var record = result.Fragment;
        Assert.Equal("snmp", record.Module);
        Assert.Equal("Net-SNMP", record.Product);
        Assert.Equal("5.9.3", record.Version);
        Assert.Equal(["cpe:2.3:a:net-snmp:net-snmp:5.9.3:*:*:*:*:*:*:*"], record.Cpe23);
        Assert.Equal("Linux", record.Os);
        Assert.Equal("1.3.6.1.4.1.8072.3.2.10", record.Snmp.Objectid);
        Assert.Equal("snmp-test", record.Snmp.Name);
        Assert.Equal("ExposureIndex test rack", record.Snmp.Location);
        Assert.Equal("tests@exposureindex.test", record.Snmp.Contact);
        Assert.Equal(698UL, record.Snmp.Uptime);
        Assert.Equal("public", record.Snmp.Community);
        Assert.Contains("  Name: snmp-test\n", record.Data.ToStringUtf8(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Always_OneV2cGetWithCommunityPublicOnly()
    {
        await using var server = UdpTestServer.Start(request => [Reply(request, "netsnmp-get-systemonly-view.bin")]);

        var result = await new SnmpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal("Net-SNMP", result.Fragment.Product);
        Assert.Equal(string.Empty, result.Fragment.Version);
        var (version, community, pduTag) = Header(Assert.Single(server.Received));
        Assert.Equal(1, version);
        Assert.Equal("public", community);
        Assert.Equal(0xA0, pduTag); // GetRequest, never SetRequest (0xa3)
    }

    private static (long Version, string Community, byte PduTag) Header(byte[] request)
    {
        var message = new BerReader(new BerReader(request, "request").Read(Ber.Sequence, "message"), "request");
        return (message.ReadInteger("version"), message.ReadString("community", 64), message.PeekTag());
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_WrongCommunitySilence_IoTimeout()
    {
        await using var server = UdpTestServer.Start(_ => []);

        var result = await new SnmpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Single(server.Received);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_ReplyToAnotherRequest_ProtocolError()
    {
        await using var server = UdpTestServer.Start(_ => [ProtocolFixtures.Read("Snmp", "netsnmp-get-full-view.bin")]);

        var result = await new SnmpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
        Assert.Contains("does not match", result.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_LengthBombDatagram_ProtocolError()
    {
        await using var server = UdpTestServer.Start(_ => [ProtocolFixtures.Read("Snmp", "hostile-length-bomb.bin")]);

        var result = await new SnmpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
    }

    [Theory]
    [InlineData("Linux host 6.1.0-18-amd64 #1 SMP Debian", "Linux")]
    [InlineData("Hardware: Intel64 Family 6 - Software: Windows Version 6.3 (Build 17763 Multiprocessor Free)", "Windows")]
    [InlineData("Cisco IOS Software, C2960 Software", "IOS")]
    [InlineData("APC Web/SNMP Management Card", null)]
    public void OsFromDescription_CommonAgents_OsFamily(string description, string? os)
        => Assert.Equal(os, SnmpProducts.OsFromDescription(description));
}
