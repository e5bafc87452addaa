using System.Globalization;
using System.Net.Sockets;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.Discovery;
using ExposureIndex.Crawler.Engine;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Tests.Support;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Crawler.Tests.Engine;

/// <summary>
/// The crawl as a sweep: sharded seeded order, checkpoint and resume, stop and abort, SYN and connect discovery
/// handing open ports to identification. Real sockets on distinct 127.x addresses only; nothing leaves loopback.
/// </summary>
public sealed class CrawlSweepTests : IAsyncDisposable
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("exposure-sweep-").FullName;
    private readonly List<LoopbackServer> _servers = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private List<LoopbackServer> Listeners(int count, string banner = "SSH-2.0-Sweep_1.0\r\n")
    {
        var servers = Enumerable.Range(0, count).Select(_ => LoopbackServer.TalkFirst(banner)).ToList();
        _servers.AddRange(servers);
        return servers;
    }

    /// <summary>Every listener's address times every listener's port plus some closed ones: open and closed triples mixed.</summary>
    private static CrawlOptions Options(IReadOnlyList<LoopbackServer> servers, int closedPorts = 0) => new()
    {
        Targets = [.. servers.Select(s => s.Address.ToString())],
        Ports = string.Join(',', servers.Select(s => s.Port).Concat(ClosedPorts(servers[0], closedPorts)).Distinct()),
        AllowLoopback = true,
        Concurrency = 16,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        // Roomy waits: the banners come at once, and several tests count each listener's connections, so a banner
        // that a loaded machine delivers late must not start probes on new ones.
        BannerWait = TimeSpan.FromSeconds(2),
        ReadTimeout = TimeSpan.FromSeconds(2),
        TargetDeadline = TimeSpan.FromSeconds(10),
        BatchSize = 4,
        BatchInterval = TimeSpan.FromMilliseconds(50),
        ProgressInterval = TimeSpan.FromMilliseconds(50),
        ScanId = "sweep-test",
        DeepGrab = false,
        Seed = 1234,
    };

    private static IEnumerable<int> ClosedPorts(LoopbackServer server, int count)
        => Enumerable.Range(0, count).Select(_ => Loopback.FreeTcpPort(server.Address));

    private static async Task<(CrawlSummary Summary, MemorySink Sink)> CrawlAsync(CrawlOptions options, CancellationTokenSource? stop = null, CancellationTokenSource? abort = null,
        IProgress<CrawlProgress>? progress = null)
    {
        var sink = new MemorySink();
        using var crawl = new CrawlRunner().Prepare(options);
        var summary = await crawl.RunAsync(sink, progress, stop?.Token ?? Ct, abort?.Token ?? CancellationToken.None).WaitAsync(TestTimeout, Ct);
        return (summary, sink);
    }

    private static string Key(ServiceRecord r) => $"{r.Ip}:{r.Port}";

    [Fact]
    public async Task RunAsync_ThreeShardsOfOneSeed_TogetherVisitEveryTargetExactlyOnce()
    {
        var servers = Listeners(4);
        var options = Options(servers, closedPorts: 3);
        var summaries = new List<CrawlSummary>();
        var records = new List<ServiceRecord>();
        for (var shard = 0; shard < 3; shard++)
        {
            var (summary, sink) = await CrawlAsync(options with { Shard = $"{shard}/3" });
            summaries.Add(summary);
            records.AddRange(sink.Records);
            Assert.Equal($"{shard}/3", summary.Shard);
            Assert.Equal(summary.Planned, summary.Done);
        }

        // A free port on one address may be a listener's port on another, so count the distinct ports actually planned.
        var total = (ulong)(servers.Count * options.Ports.Split(',').Length);
        Assert.Equal(total, summaries.Aggregate(0UL, (sum, s) => sum + s.Planned));
        Assert.Equal((long)total, summaries.Sum(s => s.Attempted));
        Assert.Equal(servers.Select(s => $"{s.Address}:{s.Port}").Order(), records.Select(Key).Order());
        // Discovery's connection carries the identification: each listener was connected to once.
        Assert.All(servers, s => Assert.Equal(1, s.Accepted));
    }

    [Fact]
    public async Task RunAsync_StoppedThenResumed_CoversThePlanWithoutRepeatingWork()
    {
        var servers = Listeners(6);
        var checkpoint = Path.Combine(_dir, "sweep.checkpoint.json");
        var options = Options(servers, closedPorts: 20) with { Rate = 300, CheckpointPath = checkpoint, CheckpointInterval = TimeSpan.FromMilliseconds(100) };

        using var stop = new CancellationTokenSource();
        var progress = new StopAt(p => p.Done >= 40, stop);
        var (first, firstSink) = await CrawlAsync(options, stop, progress: progress);
        Assert.True(first.Cancelled);
        Assert.True(first.Done < first.Planned, $"stopped at {first.Done} of {first.Planned}");
        // A drained stop finishes every position it took, and the final checkpoint says so.
        Assert.Equal((long)first.Done, first.Attempted);
        Assert.Equal(first.Done, first.CheckpointPosition);

        var (second, secondSink) = await CrawlAsync(options with { Resume = true });
        Assert.Equal(first.Done, second.ResumedFrom);
        Assert.Equal(second.Planned, second.Done);
        Assert.True(second.Complete);
        Assert.Equal((long)second.Planned, first.Attempted + second.Attempted);
        Assert.Equal("sweep-test", second.ScanId);

        var keys = firstSink.Records.Concat(secondSink.Records).Select(Key).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(servers.Select(s => $"{s.Address}:{s.Port}").Order(), keys.Order());
        Assert.True(new CheckpointStore(checkpoint).TryLoad(out var saved, out _));
        Assert.True(saved!.IsFinished);
        Assert.Equal(servers.Count, saved.Open);
    }

    [Fact]
    public async Task RunAsync_AbortedDuringIdentification_CheckpointStaysBeforeTheAbandonedWork()
    {
        var silent = LoopbackServer.Silent();
        _servers.Add(silent);
        var checkpoint = Path.Combine(_dir, "abort.checkpoint.json");
        var options = Options([silent]) with
        {
            BannerWait = TimeSpan.FromSeconds(5),
            ReadTimeout = TimeSpan.FromSeconds(5),
            TargetDeadline = TimeSpan.FromSeconds(20),
            CheckpointPath = checkpoint,
            CheckpointInterval = TimeSpan.FromHours(1),
        };

        using var stop = new CancellationTokenSource();
        using var abort = new CancellationTokenSource();
        var run = CrawlAsync(options, stop, abort);
        await silent.FirstConnection.Task.WaitAsync(TestTimeout, Ct);
        await stop.CancelAsync();
        await abort.CancelAsync();
        var (summary, sink) = await run;

        Assert.True(summary.Cancelled);
        Assert.Empty(sink.Records);
        // The open port's position was handed over but never identified: no checkpoint may pass it.
        Assert.Equal(0UL, summary.CheckpointPosition);
        Assert.True(new CheckpointStore(checkpoint).TryLoad(out var saved, out _));
        Assert.Equal(0UL, saved!.Position);
    }

    [Fact]
    public void Prepare_CheckpointOfAnotherPlan_RefusesToResume()
    {
        var servers = Listeners(1);
        var checkpoint = Path.Combine(_dir, "other.checkpoint.json");
        var options = Options(servers) with { CheckpointPath = checkpoint };
        var other = CrawlPlan.Create(options with { Ports = "1-3" }, requireOutput: false, TimeProvider.System);
        new CheckpointStore(checkpoint).Save(SweepCheckpoint.For(other.Sweep, 1, DateTimeOffset.UtcNow));

        var resume = Assert.Throws<CheckpointMismatchException>(() => new CrawlRunner().Prepare(options with { Resume = true }));
        Assert.Contains("plan hash differs", resume.Message, StringComparison.Ordinal);
        Assert.Contains("without --resume", resume.Message, StringComparison.Ordinal);

        // Without --resume an unfinished checkpoint is not overwritten silently either.
        var fresh = Assert.Throws<CheckpointMismatchException>(() => new CrawlRunner().Prepare(options));
        Assert.Contains("pass --resume", fresh.Message, StringComparison.Ordinal);
        Assert.Equal(0, servers[0].Accepted);
    }

    [Fact]
    public void Prepare_SynWithoutRawSockets_RefusesBeforeSendingAnything()
    {
        var servers = Listeners(1);
        var options = Options(servers) with
        {
            Syn = true,
            OpenRawSocket = () => throw new SocketException((int)SocketError.AccessDenied),
        };

        var e = Assert.Throws<SynUnavailableException>(() => new CrawlRunner().Prepare(options));
        Assert.Equal(SynScanner.PermissionMessage, e.Message);
        Assert.Contains("leave out --syn", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, servers[0].Accepted);
    }

    [Fact]
    public async Task RunAsync_Syn_OpenPortsGoOnToIdentification()
    {
        if (!SynScanner.TryCreate(new SynScanOptions(), TimeProvider.System, out var probe, out var error))
        {
            Requires.SkipOrFail($"raw sockets unavailable: {error}");
        }

        probe!.Dispose();
        var servers = Listeners(3);
        var options = Options(servers, closedPorts: 5) with { Syn = true, ConnectTimeout = TimeSpan.FromMilliseconds(500) };
        var (summary, sink) = await CrawlAsync(options);

        Assert.Equal("syn", summary.Mode);
        Assert.Equal(summary.Planned, summary.Done);
        Assert.Equal(servers.Select(s => $"{s.Address}:{s.Port}").Order(), sink.Records.Select(Key).Order());
        Assert.All(sink.Records, r => Assert.StartsWith("SSH-2.0-Sweep", r.Data.ToStringUtf8(), StringComparison.Ordinal));
        Assert.Equal(servers.Count * options.Ports.Split(',').Length - servers.Count, summary.Closed);
        // The SYN probe never completes a handshake: identification's connect is the only one the listener accepts.
        Assert.All(servers, s => Assert.Equal(1, s.Accepted));
    }

    [Fact]
    public async Task RunAsync_ManagedScanner_HandsTheConnectionToIdentificationToo()
    {
        var servers = Listeners(3);
        var (summary, sink) = await CrawlAsync(Options(servers, closedPorts: 2) with { UseEpoll = false });

        Assert.Equal(servers.Select(s => $"{s.Address}:{s.Port}").Order(), sink.Records.Select(Key).Order());
        Assert.Equal((long)summary.Planned, summary.Attempted);
        Assert.All(servers, s => Assert.Equal(1, s.Accepted));
    }

    [Fact]
    public async Task RunAsync_ExcludeFile_NeverTouchesTheExcludedHost()
    {
        var servers = Listeners(3);
        var exclude = Path.Combine(_dir, "exclude.txt");
        await File.WriteAllTextAsync(exclude, $"# opt-out\n{servers[1].Address}  # asked on 2026-06-01\n", Ct);
        var (summary, sink) = await CrawlAsync(Options(servers) with { ExcludeFiles = [exclude] });

        Assert.DoesNotContain(sink.Records, r => r.Ip == servers[1].Address.ToString());
        Assert.Equal(0, servers[1].Accepted);
        Assert.Equal(2, sink.Records.Count);
        var refusal = Assert.Single(summary.Refusals);
        Assert.Contains($"excluded by the operator ({exclude}:2)", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_PerNetworkCapOfOne_StillFindsEveryListenerOnOneNetwork()
    {
        // Several listeners on one address (one /24): with a cap of 1 they are identified one after another.
        var address = Loopback.NextAddress();
        var servers = Enumerable.Range(0, 4).Select(_ => LoopbackServer.TalkFirst("220 capped ESMTP\r\n", address)).ToList();
        _servers.AddRange(servers);
        var (summary, sink) = await CrawlAsync(Options(servers, closedPorts: 4) with { MaxPerNetwork = 1 });

        Assert.Equal(servers.Select(s => $"{s.Address}:{s.Port}").Order(), sink.Records.Select(Key).Order());
        Assert.Equal(summary.Planned, summary.Done);
    }

    /// <summary>Cancels once a progress report satisfies the condition (reports arrive in order on one task).</summary>
    private sealed class StopAt(Func<CrawlProgress, bool> condition, CancellationTokenSource stop) : IProgress<CrawlProgress>
    {
        public void Report(CrawlProgress value)
        {
            if (condition(value))
            {
                stop.Cancel();
            }
        }
    }
}
