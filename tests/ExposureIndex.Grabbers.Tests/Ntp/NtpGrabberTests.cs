using System.Buffers.Binary;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Ntp;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Ntp;

public sealed class NtpGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>ntpsec's captured replies, tied to the request: the origin echoes our transmit timestamp, the sequence ours.</summary>
    private static IEnumerable<byte[]> Ntpsec(byte[] request, bool answerControl = true)
    {
        var mode = request[0] & 0x07;
        if (mode == 3)
        {
            var reply = ProtocolFixtures.Read("Ntp", "ntpsec-mode4-unsynchronized.bin");
            request.AsSpan(40, 8).CopyTo(reply.AsSpan(24));
            return [reply];
        }

        if (mode == 6 && answerControl)
        {
            var reply = ProtocolFixtures.Read("Ntp", "ntpsec-mode6-readvar.bin");
            request.AsSpan(2, 2).CopyTo(reply.AsSpan(2));
            return [reply];
        }

        return [];
    }

    [Fact]
    public void BuildClientRequest_Nonce_Mode3Version4WithTheNonceAsTransmitTime()
    {
        var packet = NtpGrabber.BuildClientRequest(0x0102030405060708UL);

        Assert.Equal(48, packet.Length);
        Assert.Equal(0x23, packet[0]);
        Assert.Equal(0x0102030405060708UL, BinaryPrimitives.ReadUInt64BigEndian(packet.AsSpan(40)));
        Assert.All(packet[1..40], b => Assert.Equal(0, b));
    }

    [Fact]
    public void BuildReadVariables_Sequence_Mode6ReadvarOfTheSystem()
        => Assert.Equal(new byte[] { 0x16, 0x02, 0x00, 0x07, 0, 0, 0, 0, 0, 0, 0, 0 }, NtpGrabber.BuildReadVariables(7));

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Ntpsec_ProductVersionFromReadvarAndHeaderFields()
    {
        await using var server = UdpTestServer.Start(request => Ntpsec(request));

        var result = await new NtpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        var record = result.Fragment;
        Assert.Equal("ntp", record.Module);
        Assert.Equal("NTPsec", record.Product);
        Assert.Equal("1.2.2", record.Version);
        Assert.Equal(["cpe:2.3:a:ntpsec:ntpsec:1.2.2:*:*:*:*:*:*:*"], record.Cpe23);
        Assert.Equal("Linux", record.Os);
        Assert.True(record.Ntp.HasStratum);
        Assert.Equal(0, record.Ntp.Stratum);
        Assert.Equal(3, record.Ntp.Leap);
        Assert.Equal(4, record.Ntp.ProtocolVersion);
        Assert.Equal("INIT", record.Ntp.Refid);
        Assert.Equal("ntpd ntpsec-1.2.2", record.Ntp.Version);
        Assert.Equal("x86_64", record.Ntp.Processor);
        Assert.Equal("16", record.Ntp.Variables["stratum"]);
        Assert.StartsWith("NTP\nprotocolversion: 4\nstratum: 0\n", record.Data.ToStringUtf8(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Always_OnlyModes3And6AndNeverMode7()
    {
        await using var server = UdpTestServer.Start(request => Ntpsec(request));

        await new NtpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(new[] { 3, 6 }, server.Received.Select(r => r[0] & 0x07).Order());
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_NoQueryServer_HeaderFieldsWithoutProduct()
    {
        await using var server = UdpTestServer.Start(request => Ntpsec(request, answerControl: false));

        var result = await new NtpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal(string.Empty, result.Fragment.Product);
        Assert.Equal("INIT", result.Fragment.Ntp.Refid);
        Assert.Equal(string.Empty, result.Fragment.Ntp.Version);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_ReplyNotEchoingOurTimestamp_ProtocolError()
    {
        await using var server = UdpTestServer.Start(request => (request[0] & 0x07) == 3 ? [ProtocolFixtures.Read("Ntp", "ntpsec-mode4-unsynchronized.bin")] : []);

        var result = await new NtpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
        Assert.Contains("origin timestamp", result.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Silence_IoTimeout()
    {
        await using var server = UdpTestServer.Start(_ => []);

        var result = await new NtpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
    }
}
