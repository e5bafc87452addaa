using System.Buffers.Binary;
using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Dns;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Dns;

public sealed class DnsGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The captured BIND reply for the question in <paramref name="query"/> (an unframed message), with the query's id.</summary>
    private static byte[] BindReply(ReadOnlySpan<byte> query, bool tcp)
    {
        var name = QuestionName(query);
        var reply = ProtocolFixtures.Read("Dns", $"bind-{(tcp ? "tcp" : "udp")}-{name}.bin");
        query[..2].CopyTo(reply.AsSpan(tcp ? 2 : 0));
        return reply;
    }

    private static string QuestionName(ReadOnlySpan<byte> query)
    {
        var labels = new List<string>();
        for (var i = 12; query[i] != 0; i += query[i] + 1)
        {
            labels.Add(Encoding.ASCII.GetString(query.Slice(i + 1, query[i])));
        }

        return string.Join('.', labels);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_UdpBind_ProductVersionAndResolverNames()
    {
        await using var server = UdpTestServer.Start(query => [BindReply(query, tcp: false)]);

        var result = await new DnsUdpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        var record = result.Fragment;
        Assert.Equal("dns-udp", record.Module);
        Assert.Equal("ISC BIND", record.Product);
        Assert.Equal("9.18.49", record.Version);
        Assert.Equal(["cpe:2.3:a:isc:bind:9.18.49:*:*:*:*:*:*:*"], record.Cpe23);
        Assert.Equal("9.18.49-1~deb12u3-Debian", record.Dns.Software);
        Assert.Equal("vm", record.Dns.ResolverHostname);
        Assert.Equal(string.Empty, record.Dns.ResolverId);
        Assert.True(record.Dns.HasRecursive);
        Assert.False(record.Dns.Recursive);
        Assert.True(record.Dns.Authoritative);
        Assert.Equal("NOERROR", record.Dns.Rcode);
        Assert.Equal("9.18.49-1~deb12u3-Debian\nRecursion: disabled\nResolver name: vm", record.Data.ToStringUtf8());
        // Shodan's dns section names; "recursive": false renders because the field has presence.
        using var json = System.Text.Json.JsonDocument.Parse(ExposureIndex.Contracts.Json.BannerJson.Serialize(record, minify: true));
        var dns = json.RootElement.GetProperty("dns");
        Assert.False(dns.GetProperty("recursive").GetBoolean());
        Assert.Equal("vm", dns.GetProperty("resolver_hostname").GetString());
        Assert.Equal("9.18.49-1~deb12u3-Debian", dns.GetProperty("software").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Udp_OnlyChaosTxtQuestionsWithRecursionDesiredClear()
    {
        await using var server = UdpTestServer.Start(query => [BindReply(query, tcp: false)]);

        await new DnsUdpGrabber().GrabAsync(server.Context(), Ct);

        var queries = server.Received.ToList();
        Assert.Equal(3, queries.Count);
        Assert.Equal(["hostname.bind", "id.server", "version.bind"], queries.Select(q => QuestionName(q)).Order(StringComparer.Ordinal));
        foreach (var query in queries)
        {
            Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(2)));
            Assert.Equal(DnsQuery.TypeTxt, BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(query.Length - 4)));
            Assert.Equal(DnsQuery.ClassChaos, BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(query.Length - 2)));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_UdpReplyWithAnotherId_ProtocolErrorNotAccepted()
    {
        await using var server = UdpTestServer.Start(query =>
        {
            var reply = BindReply(query, tcp: false);
            reply[0] ^= 0xFF;
            return [reply];
        });

        var result = await new DnsUdpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
        Assert.Contains("does not answer query", result.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Fragment.Product);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_UdpSilence_IoTimeoutWithinTheReadTimeout()
    {
        await using var server = UdpTestServer.Start(_ => []);

        var result = await new DnsUdpGrabber().GrabAsync(server.Context(), Ct);

        // The read timeout ended it, not the total deadline (whose message would be "total deadline ... passed").
        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Equal("DNS over UDP: no reply to any CHAOS TXT question", result.Error);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_TcpBind_SameAnswersOverOneConnection()
    {
        await using var server = TestServer.Answering((_, framed) => BindReply(framed.AsSpan(2), tcp: true));

        var result = await new DnsTcpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal("dns-tcp", result.Fragment.Module);
        Assert.Equal("ISC BIND", result.Fragment.Product);
        Assert.Equal("9.18.49", result.Fragment.Version);
        Assert.Equal("vm", result.Fragment.Dns.ResolverHostname);
        Assert.Equal(1, server.Accepted);
        Assert.Equal(3, server.Received.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_TcpTarpit_IoTimeout()
    {
        var result = await HostilePeers.TarpitAsync(new DnsTcpGrabber());

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_TcpGarbage_ProtocolErrorWithoutReadingItAll()
    {
        var (result, written) = await HostilePeers.GarbageAsync(new DnsTcpGrabber());

        Assert.NotEqual(GrabOutcome.Success, result.Outcome);
        Assert.True(written < HostilePeers.TenMegabytes, $"the server wrote {written} bytes");
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_TcpSlowDripOfAFrame_EndsWithinTheDeadline()
    {
        // A frame announcing 65535 bytes, then one byte every 200 ms: the total deadline ends it.
        var result = await HostilePeers.DripAsync(new DnsTcpGrabber(), [0xFF, 0xFF], [0x41], TimeSpan.FromMilliseconds(200), afterRequest: true);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
    }
}
