using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ExposureIndex.Crawler.Discovery;
using ExposureIndex.Crawler.Targeting;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Crawler.Tests.Discovery;

/// <summary>
/// Discovery against real sockets on loopback: listeners opened by the test on fresh 127.x.y.z addresses are the
/// open ports, every other port of the plan is closed. Connect mode always; SYN mode when raw sockets are allowed.
/// </summary>
public sealed class LoopbackDiscoveryTests : IDisposable
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);
    private readonly List<TcpListener> _listeners = [];
    private readonly string _dir = Directory.CreateTempSubdirectory("exposure-discovery-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }

        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Opens <paramref name="open"/> listeners on a fresh address and picks <paramref name="closed"/> closed ports on it.</summary>
    private (IPAddress Address, HashSet<int> Open, List<int> Closed) Host(int open, int closed)
    {
        var address = Loopback.NextAddress();
        Assert.True(Loopback.IsLoopback(address));
        var openPorts = new HashSet<int>();
        for (var i = 0; i < open; i++)
        {
            var listener = new TcpListener(address, 0);
            listener.Start(512);
            _listeners.Add(listener);
            openPorts.Add(((IPEndPoint)listener.LocalEndpoint).Port);
        }

        var closedPorts = new List<int>();
        while (closedPorts.Count < closed)
        {
            var port = Loopback.FreeTcpPort(address);
            if (!openPorts.Contains(port) && !closedPorts.Contains(port))
            {
                closedPorts.Add(port);
            }
        }

        return (address, openPorts, closedPorts);
    }

    private static SweepPlan Plan(IEnumerable<IPAddress> addresses, IEnumerable<int> ports, ulong seed = 3)
        => SweepPlan.Create(new SweepRequest
        {
            Targets = [string.Join(',', addresses)],
            Ports = string.Join(',', ports.Order()),
            Seed = seed,
            AllowLoopback = true,
        });

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ConnectSweep_Loopback_FindsExactlyTheListeners(bool epoll)
    {
        var (address, open, closed) = Host(open: 3, closed: 40);
        var plan = Plan([address], open.Concat(closed));
        var results = new ConcurrentBag<DiscoveryResult>();
        var sweep = new DiscoverySweep(plan, new DiscoverySweepOptions
        {
            Rate = 5000,
            MaxPerNetwork = 4,
            Connect = new ConnectScanOptions { Concurrency = 16, UseEpoll = epoll },
        }, TimeProvider.System);
        var snapshot = await sweep.RunAsync(results.Add, Ct).WaitAsync(TestTimeout, Ct);

        Assert.Equal(open, results.Where(r => r.State == PortState.Open).Select(r => r.Target.Port).ToHashSet());
        Assert.Equal(closed.Order(), results.Where(r => r.State == PortState.Closed).Select(r => r.Target.Port).Order());
        Assert.Equal(plan.Order.Count, snapshot.Done);
        Assert.Equal(3, snapshot.Open);
        Assert.Equal(40, snapshot.Closed);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ConnectSweep_StoppedAndResumed_UnionIsThePlanWithoutRepeats(bool epoll)
    {
        var hosts = Enumerable.Range(0, 2).Select(_ => Host(open: 2, closed: 30)).ToList();
        var ports = hosts.SelectMany(h => h.Open.Concat(h.Closed)).Distinct().ToList();
        var plan = Plan(hosts.Select(h => h.Address), ports, seed: 77);
        var checkpoint = Path.Combine(_dir, "cp.json");
        // A cap below the concurrency: targets wait for their network, and a stop must drain them too.
        var options = new DiscoverySweepOptions { Rate = 3000, MaxPerNetwork = 2, CheckpointPath = checkpoint, Connect = new ConnectScanOptions { Concurrency = 16, UseEpoll = epoll } };

        var first = new ConcurrentBag<ScanTriple>();
        using (var stop = new CancellationTokenSource())
        {
            var sweep = new DiscoverySweep(plan, options, TimeProvider.System);
            var firstSnapshot = await sweep.RunAsync(r =>
            {
                first.Add(r.Target);
                // Results may arrive on several threads at once, so two of them can pass any exact count together:
                // stop at the first that sees a third done (Cancel is idempotent).
                if (first.Count >= (int)plan.Order.Count / 3)
                {
                    stop.Cancel();
                }
            }, stop.Token).WaitAsync(TestTimeout, Ct);
            Assert.True(firstSnapshot.Cancelled);
            Assert.True(firstSnapshot.Done < plan.Order.Count);
        }

        var second = new ConcurrentBag<ScanTriple>();
        var resumed = new DiscoverySweep(plan, options with { Resume = true }, TimeProvider.System);
        var snapshot = await resumed.RunAsync(r => second.Add(r.Target), Ct).WaitAsync(TestTimeout, Ct);

        Assert.Equal(plan.Order.Enumerate().ToHashSet(), first.Concat(second).ToHashSet());
        Assert.Empty(first.Intersect(second));
        Assert.Equal((int)plan.Order.Count, first.Count + second.Count);
        Assert.True(snapshot.ResumedFrom > 0);
        Assert.Equal(plan.Order.Count, snapshot.Done);
        // Open ports found before the stop come from the checkpoint: the total is every listener, once.
        Assert.Equal(4, snapshot.Open);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ConnectSweep_SilentPort_IsFilteredAfterTheTimeout(bool epoll)
    {
        // A listener that never accepts, with its accept queue full: Linux drops further SYNs, so the handshake
        // never completes and only the connect timeout ends the attempt.
        var address = Loopback.NextAddress();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(address, 0));
        listener.Listen(1);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                // Only a full queue holds a loopback connect this long; a merely slow one (a loaded machine) must not
                // be mistaken for it.
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                try
                {
                    await filler.ConnectAsync(new IPEndPoint(address, port), quick.Token);
                }
                catch (OperationCanceledException)
                {
                    break; // the queue is full already
                }
            }

            var plan = Plan([address], [port]);
            var results = new ConcurrentBag<DiscoveryResult>();
            var options = new DiscoverySweepOptions { Connect = new ConnectScanOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300), UseEpoll = epoll } };
            await new DiscoverySweep(plan, options, TimeProvider.System).RunAsync(results.Add, Ct).WaitAsync(TestTimeout, Ct);
            var result = Assert.Single(results);
            Assert.Equal(PortState.Filtered, result.State);
            Assert.Equal("connect timeout", result.Error);
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public async Task ConnectSweep_UdpTriples_AreReportedUnsupported()
    {
        var (address, open, _) = Host(open: 1, closed: 0);
        var plan = SweepPlan.Create(new SweepRequest { Targets = [address.ToString()], Ports = $"{open.Single()},U:53", Seed = 1, AllowLoopback = true });
        var results = new ConcurrentBag<DiscoveryResult>();
        await new DiscoverySweep(plan, new DiscoverySweepOptions(), TimeProvider.System).RunAsync(results.Add, Ct).WaitAsync(TestTimeout, Ct);
        Assert.Equal([PortState.Open, PortState.Unsupported], results.Select(r => r.State).Order());
    }

    [Fact]
    public void SynTryCreate_NotPermitted_ExplainsTheFallback()
    {
        Assert.False(SynScanner.TryCreate(new SynScanOptions(), TimeProvider.System, out var scanner, out var error,
            () => throw new SocketException((int)SocketError.AccessDenied)));
        Assert.Null(scanner);
        Assert.Contains("CAP_NET_RAW", error, StringComparison.Ordinal);
        Assert.Contains("leave out --syn", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SynSweep_NotPermitted_ThrowsSynUnavailableBeforeSending()
    {
        var plan = Plan([Loopback.NextAddress()], [1]);
        var results = new ConcurrentBag<DiscoveryResult>();
        var options = new DiscoverySweepOptions
        {
            Syn = true,
            SynOptions = new SynScanOptions { OpenRawSocket = () => throw new SocketException((int)SocketError.AccessDenied) },
        };
        var e = await Assert.ThrowsAsync<SynUnavailableException>(() => new DiscoverySweep(plan, options, TimeProvider.System).RunAsync(results.Add, Ct));
        Assert.Contains("CAP_NET_RAW", e.Message, StringComparison.Ordinal);
        Assert.Empty(results);
    }

    private static void RequireRawSockets()
    {
        if (!SynScanner.TryCreate(new SynScanOptions(), TimeProvider.System, out var probe, out var error))
        {
            Requires.SkipOrFail($"SYN discovery needs root or CAP_NET_RAW: {error}");
        }

        probe!.Dispose();
    }

    [Fact]
    public async Task SynSweep_Loopback_FindsExactlyTheListeners()
    {
        RequireRawSockets();
        var hosts = Enumerable.Range(0, 2).Select(_ => Host(open: 3, closed: 40)).ToList();
        var ports = hosts.SelectMany(h => h.Open.Concat(h.Closed)).Distinct().ToList();
        var plan = Plan(hosts.Select(h => h.Address), ports, seed: 5);
        var results = new ConcurrentBag<DiscoveryResult>();
        var sweep = new DiscoverySweep(plan, new DiscoverySweepOptions
        {
            Syn = true,
            Rate = 20_000,
            CheckpointPath = Path.Combine(_dir, "syn.json"),
            SynOptions = new SynScanOptions { ReplyWait = TimeSpan.FromSeconds(1) },
        }, TimeProvider.System);
        var snapshot = await sweep.RunAsync(results.Add, Ct).WaitAsync(TestTimeout, Ct);

        var expectedOpen = hosts.SelectMany(h => h.Open.Select(p => $"{h.Address}:{p}/tcp")).ToHashSet();
        Assert.Equal(expectedOpen, results.Where(r => r.State == PortState.Open).Select(r => r.Target.ToString()).ToHashSet());
        // Every other planned pair answered RST: the loopback kernel resets closed ports at once.
        var openOrPlanned = plan.Order.Enumerate().Select(t => t.ToString()).ToHashSet();
        var closed = results.Where(r => r.State == PortState.Closed).Select(r => r.Target.ToString()).ToList();
        Assert.All(closed, c => Assert.Contains(c, openOrPlanned));
        Assert.Equal((int)plan.Order.Count - expectedOpen.Count, closed.Distinct().Count());
        Assert.Equal(plan.Order.Count, snapshot.Done);
        Assert.Equal(6, snapshot.Open);
        Assert.Equal((long)plan.Order.Count, snapshot.Attempted);
        Assert.NotNull(sweep.SynSendRate);
    }

    [Fact]
    public async Task SynSweep_ReceiverBusyPastTheReplyWait_StillReportsTheQueuedAnswers()
    {
        // The first answer holds the receive thread well past the reply wait, as a descheduled thread on a busy
        // machine would. Every other answer is queued on the raw socket by then and must still be read.
        RequireRawSockets();
        var host = Host(open: 4, closed: 30);
        var plan = Plan([host.Address], host.Open.Concat(host.Closed), seed: 9);
        var results = new ConcurrentBag<DiscoveryResult>();
        var first = 0;
        var sweep = new DiscoverySweep(plan, new DiscoverySweepOptions
        {
            Syn = true,
            SynOptions = new SynScanOptions { ReplyWait = TimeSpan.FromMilliseconds(200) },
        }, TimeProvider.System);
        await sweep.RunAsync(
            r =>
            {
                if (r.State is PortState.Open or PortState.Closed && Interlocked.Exchange(ref first, 1) == 0)
                {
                    Thread.Sleep(TimeSpan.FromSeconds(1.5));
                }

                results.Add(r);
            }, Ct).WaitAsync(TestTimeout, Ct);

        Assert.Equal(host.Open.Select(p => $"{host.Address}:{p}/tcp").ToHashSet(), results.Where(r => r.State == PortState.Open).Select(r => r.Target.ToString()).ToHashSet());
        Assert.Equal(host.Closed.Count, results.Where(r => r.State == PortState.Closed).Select(r => r.Target.ToString()).Distinct().Count());
    }

    [Fact]
    public async Task SynSweep_UdpAndIPv6Triples_AreLeftForTheConnectScan()
    {
        RequireRawSockets();
        var (address, open, _) = Host(open: 1, closed: 0);
        var plan = SweepPlan.Create(new SweepRequest { Targets = [$"{address},::1"], Ports = $"{open.Single()},U:53", Seed = 2, AllowLoopback = true });
        var results = new ConcurrentBag<DiscoveryResult>();
        await new DiscoverySweep(plan, new DiscoverySweepOptions { Syn = true, SynOptions = new SynScanOptions { ReplyWait = TimeSpan.FromMilliseconds(500) } }, TimeProvider.System)
            .RunAsync(results.Add, Ct).WaitAsync(TestTimeout, Ct);
        Assert.Equal(3, results.Count(r => r.State == PortState.Unsupported));
        Assert.Equal($"{address}:{open.Single()}/tcp", Assert.Single(results, r => r.State == PortState.Open).Target.ToString());
    }
}
