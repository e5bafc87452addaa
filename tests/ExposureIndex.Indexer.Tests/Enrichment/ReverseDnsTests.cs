using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ExposureIndex.Indexer.Enrichment.ReverseDns;
using ExposureIndex.Indexer.Tests.Support;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Indexer.Tests.Enrichment;

public sealed class ReverseDnsTests
{
    [Theory]
    [InlineData("8.8.4.4", "4.4.8.8.in-addr.arpa")]
    [InlineData("2001:db8::567:89ab", "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")]
    public void ReverseName_FollowsRfc1035AndRfc3596(string ip, string expected)
        => Assert.Equal(expected, PtrMessage.ReverseName(IPAddress.Parse(ip)));

    [Theory]
    [InlineData("www.example.com", "example.com")]
    [InlineData("mail.example.co.uk", "example.co.uk")]
    [InlineData("ec2-1-2-3-4.compute-1.amazonaws.com", "compute-1.amazonaws.com")]
    [InlineData("dns.google.", "dns.google")]
    [InlineData("localhost", null)]
    [InlineData("co.uk", null)]
    public void RegisteredDomain_CommonSuffixes(string host, string? expected) => Assert.Equal(expected, DomainNames.RegisteredDomain(host));

    [Fact]
    public void TryParseAnswer_HostileMessages_FailCleanly()
    {
        var query = PtrMessage.Query(7, "4.4.8.8.in-addr.arpa");
        var answer = FakeDns.Answer(query, ["dns.google"], ttl: 300);
        Assert.True(PtrMessage.TryParseAnswer(answer, 7, out var names, out var ttl, out _, out _));
        Assert.Equal(["dns.google"], names);
        Assert.Equal(300u, ttl);

        var random = new Random(3);
        for (var i = 0; i < 2000; i++)
        {
            var mutated = (byte[])answer.Clone();
            mutated[12 + random.Next(mutated.Length - 12)] = (byte)random.Next(256);
            var cut = mutated.AsSpan(0, random.Next(mutated.Length + 1));
            PtrMessage.TryParseAnswer(cut, 7, out _, out _, out _, out _); // must not throw or hang
        }

        var loop = (byte[])answer.Clone();
        loop[^12] = 0xC0;
        loop[^11] = (byte)(loop.Length - 12); // a pointer to itself
        PtrMessage.TryParseAnswer(loop, 7, out _, out _, out _, out _);
    }

    [Fact]
    public async Task Enrich_PublicAddresses_FillsHostnamesDomainsAndCaches()
    {
        await using var dns = FakeDns.Start(new Dictionary<string, string[]> { ["4.4.8.8.in-addr.arpa"] = ["dns.google"], ["1.1.1.1.in-addr.arpa"] = ["one.one.one.one"] });
        // Queries are counted: a late answer on a loaded machine must not draw a retry or run out the batch's budget.
        var options = new ReverseDnsOptions { Resolver = dns.EndPoint, Timeout = TimeSpan.FromSeconds(10), BatchBudget = TimeSpan.FromSeconds(30) };
        using var resolver = new ReverseDnsResolver(options);
        var enricher = new ReverseDnsEnricher(resolver, options);
        var records = new[] { Records.Valid(ip: "8.8.4.4"), Records.Valid(ip: "8.8.4.4", port: 443), Records.Valid(ip: "1.1.1.1"), Records.Valid(ip: "9.9.9.9") };
        await enricher.EnrichAsync(records, TestContext.Current.CancellationToken);

        Assert.Equal(["dns.google"], records[0].Hostnames);
        Assert.Equal(["dns.google"], records[0].Domains);
        Assert.Equal(["dns.google"], records[1].Hostnames);
        Assert.Equal(["one.one.one.one"], records[2].Hostnames);
        Assert.Equal(["one.one"], records[2].Domains);
        Assert.Empty(records[3].Hostnames); // NXDOMAIN
        Assert.Equal(3, dns.Queries);

        var again = new[] { Records.Valid(ip: "8.8.4.4", port: 22), Records.Valid(ip: "9.9.9.9", port: 22) };
        await enricher.EnrichAsync(again, TestContext.Current.CancellationToken);
        Assert.Equal(["dns.google"], again[0].Hostnames);
        Assert.Equal(3, dns.Queries); // both answers (positive and negative) came from the cache
    }

    [Fact]
    public async Task Enrich_SpecialPurposeAddresses_AreNeverLookedUp()
    {
        await using var dns = FakeDns.Start(new Dictionary<string, string[]>());
        using var resolver = new ReverseDnsResolver(new ReverseDnsOptions { Resolver = dns.EndPoint });
        var enricher = new ReverseDnsEnricher(resolver, new ReverseDnsOptions { Resolver = dns.EndPoint });
        var records = new[] { "127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "100.64.0.1", "169.254.1.1", "192.0.2.1", "::1", "fd00::1", "fe80::1" }
            .Select(ip => Records.Valid(ip: ip)).ToArray();
        await enricher.EnrichAsync(records, TestContext.Current.CancellationToken);
        Assert.Equal(0, dns.Queries);
    }

    [Fact]
    public async Task Enrich_SilentResolver_CostsBoundedTimeAndAddsNothing()
    {
        await using var dns = FakeDns.Start(new Dictionary<string, string[]>(), silent: true);
        var options = new ReverseDnsOptions { Resolver = dns.EndPoint, Timeout = TimeSpan.FromMilliseconds(200), Attempts = 2, BatchBudget = TimeSpan.FromSeconds(2) };
        using var resolver = new ReverseDnsResolver(options);
        var enricher = new ReverseDnsEnricher(resolver, options);
        var records = Enumerable.Range(1, 50).Select(i => Records.Valid(ip: $"8.8.{i}.8")).ToArray();
        var clock = Stopwatch.StartNew();
        await enricher.EnrichAsync(records, TestContext.Current.CancellationToken);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.All(records, r => Assert.Empty(r.Hostnames));
    }

    /// <summary>A tiny authoritative-only DNS responder for PTR queries, on a private loopback address.</summary>
    private sealed class FakeDns : IAsyncDisposable
    {
        private readonly UdpClient _udp;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _queries;

        private FakeDns(UdpClient udp, IReadOnlyDictionary<string, string[]> zone, bool silent)
        {
            _udp = udp;
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    UdpReceiveResult received;
                    try
                    {
                        received = await _udp.ReceiveAsync(_stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    Interlocked.Increment(ref _queries);
                    if (silent)
                    {
                        continue;
                    }

                    var name = QuestionName(received.Buffer);
                    var reply = zone.TryGetValue(name, out var names) ? Answer(received.Buffer, names, 3600) : NxDomain(received.Buffer);
                    await _udp.SendAsync(reply, received.RemoteEndPoint, _stop.Token);
                }
            });
        }

        public IPEndPoint EndPoint => (IPEndPoint)_udp.Client.LocalEndPoint!;

        public int Queries => Volatile.Read(ref _queries);

        public static FakeDns Start(IReadOnlyDictionary<string, string[]> zone, bool silent = false)
            => new(new UdpClient(new IPEndPoint(Loopback.NextAddress(), 0)), zone, silent);

        public static byte[] Answer(byte[] query, IReadOnlyList<string> names, uint ttl)
        {
            var questionEnd = 12 + QuestionLength(query);
            var reply = new List<byte>(query.AsSpan(0, questionEnd).ToArray());
            reply[2] = 0x81;
            reply[3] = 0x80;
            reply[6] = 0;
            reply[7] = (byte)names.Count;
            foreach (var name in names)
            {
                reply.AddRange([0xC0, 12, 0, 12, 0, 1]);
                var ttlBytes = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(ttlBytes, ttl);
                reply.AddRange(ttlBytes);
                var rdata = new List<byte>();
                foreach (var label in name.Split('.'))
                {
                    rdata.Add((byte)label.Length);
                    rdata.AddRange(Encoding.ASCII.GetBytes(label));
                }

                rdata.Add(0);
                reply.AddRange([(byte)(rdata.Count >> 8), (byte)rdata.Count]);
                reply.AddRange(rdata);
            }

            return [.. reply];
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _udp.Dispose();
            _stop.Dispose();
        }

        private static byte[] NxDomain(byte[] query)
        {
            var reply = query.AsSpan(0, 12 + QuestionLength(query)).ToArray();
            reply[2] = 0x81;
            reply[3] = 0x83;
            return reply;
        }

        private static int QuestionLength(byte[] query)
        {
            var at = 12;
            while (query[at] != 0)
            {
                at += 1 + query[at];
            }

            return at + 1 + 4 - 12;
        }

        private static string QuestionName(byte[] query)
        {
            var labels = new List<string>();
            for (var at = 12; query[at] != 0; at += 1 + query[at])
            {
                labels.Add(Encoding.ASCII.GetString(query, at + 1, query[at]));
            }

            return string.Join('.', labels);
        }
    }
}
