using System.Buffers.Binary;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Rdp;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Rdp;

public sealed class RdpGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static uint RequestedProtocols(byte[] request) => BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(15));

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Xrdp_SelectedTlsAndNamedByItsRdstlsHangUp()
    {
        await using var server = TestServer.Answering((_, request) => ProtocolFixtures.Read("Rdp", (RequestedProtocols(request) & RdpGrabber.ProtocolRdstls) != 0 ? "xrdp-disconnect-on-rdstls.bin" : "xrdp-neg-rsp-ssl.bin"));

        var result = await new RdpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        var record = result.Fragment;
        Assert.Equal("rdp", record.Module);
        Assert.Equal("xrdp", record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal(["cpe:2.3:a:neutrinolabs:xrdp:*:*:*:*:*:*:*:*"], record.Cpe23);
        Assert.Equal("SSL", record.Rdp.SelectedProtocol);
        Assert.Equal(["EXTENDED_CLIENT_DATA_SUPPORTED"], record.Rdp.Flags);
        Assert.Equal(["SSL", "HYBRID", "HYBRID_EX"], record.Rdp.RequestedProtocols);
        Assert.True(record.Rdp.Negotiation);
        Assert.Equal("Remote Desktop Protocol\nSelected protocol: SSL\nFlags: EXTENDED_CLIENT_DATA_SUPPORTED\n", record.Data.ToStringUtf8());
        Assert.Equal(new uint[] { RdpGrabber.Requested, RdpGrabber.Requested | RdpGrabber.ProtocolRdstls }, server.Received.Select(RequestedProtocols));
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_ServerAnsweringBothRequests_NoProductClaimed()
    {
        await using var server = TestServer.Answering((_, _) => ProtocolFixtures.Read("Rdp", "xrdp-neg-rsp-ssl.bin"));

        var result = await new RdpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal(string.Empty, result.Fragment.Product);
        Assert.Empty(result.Fragment.Cpe23);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_NlaRequired_FailureRecordedAndOneRequestMore()
    {
        await using var server = TestServer.Answering((_, _) => ProtocolFixtures.Read("Rdp", "synthetic-neg-failure-hybrid-required.bin"));

        var result = await new RdpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal("HYBRID_REQUIRED_BY_SERVER", result.Fragment.Rdp.Failure);
        Assert.Equal(5, result.Fragment.Rdp.FailureCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        var result = await HostilePeers.TarpitAsync(new RdpGrabber());

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Garbage_ProtocolErrorWithoutReadingItAll()
    {
        (await HostilePeers.GarbageAsync(new RdpGrabber())).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_SlowDripOfATpkt_EndsWithinTheDeadline()
    {
        var result = await HostilePeers.DripAsync(new RdpGrabber(), [0x03, 0x00, 0x03, 0xFF], [0x00], TimeSpan.FromMilliseconds(200), afterRequest: true);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
    }
}
