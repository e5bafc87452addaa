using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Engine;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Tests.Support;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Crawler.Tests.Engine;

/// <summary>The engine against real TCP servers on distinct loopback addresses. Nothing leaves 127.0.0.0/8 or ::1.</summary>
public sealed class CrawlRunnerTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    private static CrawlOptions Options(IEnumerable<LoopbackServer> servers, params int[] extraPorts) => new()
    {
        Targets = [.. servers.Select(s => s.Address.ToString())],
        Ports = string.Join(',', servers.Select(s => s.Port).Concat(extraPorts).Distinct()),
        AllowLoopback = true,
        Concurrency = 8,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        BannerWait = TimeSpan.FromMilliseconds(300),
        ReadTimeout = TimeSpan.FromMilliseconds(500),
        TargetDeadline = TimeSpan.FromSeconds(3),
        MaxBannerBytes = 4096,
        HttpPorts = "80",
        BatchSize = 4,
        BatchInterval = TimeSpan.FromMilliseconds(100),
        ProgressInterval = TimeSpan.FromMilliseconds(100),
        ScanId = "test-scan",
        Scanner = "exposure-crawler/test",
        // The engine's mechanics are under test here; RunAsync_DeepGrab_* covers the grabbers' part.
        DeepGrab = false,
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(CrawlSummary Summary, MemorySink Sink)> CrawlAsync(CrawlOptions options)
    {
        var sink = new MemorySink();
        var summary = await new CrawlRunner().RunAsync(options, sink, null, Ct).WaitAsync(TestTimeout, Ct);
        Assert.True(sink.Completed, "the sink must be completed");
        return (summary, sink);
    }

    [Fact]
    public async Task RunAsync_TalkFirstServer_RecordsBannerAsSsh()
    {
        await using var server = LoopbackServer.TalkFirst("SSH-2.0-OpenSSH_9.6 Test\r\n");
        var (summary, sink) = await CrawlAsync(Options([server]));

        var record = Assert.Single(sink.Records);
        Assert.Equal(server.Address.ToString(), record.Ip);
        Assert.Equal((uint)server.Port, record.Port);
        Assert.Equal(Transport.Tcp, record.Transport);
        Assert.Equal("SSH-2.0-OpenSSH_9.6 Test\r\n", record.Data.ToStringUtf8());
        Assert.Equal("ssh", record.Module);
        Assert.Equal(GrabOutcome.Success, record.Outcome);
        Assert.Equal(RecordSource.ActiveScan, record.Source);
        Assert.Equal("exposure-crawler/test", record.Scanner);
        Assert.Equal("test-scan", record.ScanId);
        Assert.NotNull(record.Timestamp);
        Assert.Equal(1, summary.Open);
        Assert.Equal(1, summary.RecordsWritten);
        Assert.Equal(1, summary.RecordsAcknowledged);
        Assert.False(summary.Cancelled);
    }

    [Fact]
    public async Task RunAsync_SilentHttpServer_SendsGetWithHostAndUserAgent()
    {
        const string response = "HTTP/1.1 200 OK\r\nServer: test-httpd\r\nContent-Length: 5\r\n\r\nhello";
        await using var server = LoopbackServer.SilentHttp(response);
        var options = Options([server]) with { HttpPorts = server.Port.ToString(CultureInfo.InvariantCulture), ContactUrl = new Uri("https://example.org/about-scans") };
        var (_, sink) = await CrawlAsync(options);

        var record = Assert.Single(sink.Records);
        Assert.Equal(response, record.Data.ToStringUtf8());
        Assert.Equal("http", record.Module);
        Assert.Equal(GrabOutcome.Success, record.Outcome);

        Assert.True(server.Requests.TryDequeue(out var request));
        Assert.StartsWith("GET / HTTP/1.1\r\n", request, StringComparison.Ordinal);
        Assert.Contains($"\r\nHost: {server.Address}:{server.Port}\r\n", request, StringComparison.Ordinal);
        Assert.Contains($"\r\nUser-Agent: {CrawlOptions.DefaultUserAgent} (+https://example.org/about-scans)\r\n", request, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_SilentServerOnNonHttpPort_ProbesThenRecordsOpenPortWithoutData()
    {
        await using var server = LoopbackServer.Silent();
        var (summary, sink) = await CrawlAsync(Options([server]));

        var record = Assert.Single(sink.Records);
        Assert.Equal(GrabOutcome.IoTimeout, record.Outcome);
        Assert.True(record.Data.IsEmpty);
        Assert.Contains("no banner", record.Error, StringComparison.Ordinal);
        Assert.Equal(1, summary.Outcomes[GrabOutcome.IoTimeout]);
    }

    [Fact]
    public async Task RunAsync_TarpitOnHttpPort_EndsAfterTheProbeGoesUnanswered()
    {
        await using var server = LoopbackServer.Silent();
        var options = Options([server]) with { HttpPorts = server.Port.ToString(CultureInfo.InvariantCulture) };
        var (_, sink) = await CrawlAsync(options);

        var record = Assert.Single(sink.Records);
        Assert.Equal(GrabOutcome.IoTimeout, record.Outcome);
        Assert.Contains("no answer", record.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_DripFeedingTarpit_IsCutByTheDeadlineKeepingPartialData()
    {
        await using var server = LoopbackServer.Drip(TimeSpan.FromMilliseconds(50));
        var options = Options([server]) with { TargetDeadline = TimeSpan.FromSeconds(2), ReadTimeout = TimeSpan.FromSeconds(1) };
        var (_, sink) = await CrawlAsync(options);

        var record = Assert.Single(sink.Records);
        Assert.Equal(GrabOutcome.IoTimeout, record.Outcome);
        Assert.Contains("deadline", record.Error, StringComparison.Ordinal);
        Assert.False(record.Data.IsEmpty);
        Assert.All(record.Data.ToByteArray(), b => Assert.Equal((byte)'.', b));
    }

    [Fact]
    public async Task RunAsync_EndlessBanner_StopsAtTheByteCap()
    {
        await using var server = LoopbackServer.Endless();
        var (_, sink) = await CrawlAsync(Options([server]) with { MaxBannerBytes = 10_000 });

        var record = Assert.Single(sink.Records);
        Assert.Equal(10_000, record.Data.Length);
        Assert.Equal("10000", record.Opts["truncated"]);
        Assert.Equal(GrabOutcome.Success, record.Outcome);
        Assert.StartsWith("220 endless banner line\r\n", record.Data.ToStringUtf8(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ClosedPort_CountsRefusedAndEmitsNothing()
    {
        var address = Loopback.NextAddress();
        var port = Loopback.FreeTcpPort(address);
        var options = Options([]) with { Targets = [address.ToString()], Ports = port.ToString(CultureInfo.InvariantCulture) };
        var (summary, sink) = await CrawlAsync(options);

        Assert.Empty(sink.Records);
        Assert.Equal(1, summary.Attempted);
        Assert.Equal(0, summary.Open);
        Assert.Equal(1, summary.Outcomes[GrabOutcome.Refused]);
    }

    [Fact]
    public async Task RunAsync_ServerClosesWithoutData_RecordsClosed()
    {
        await using var server = LoopbackServer.Start((_, _) => Task.CompletedTask);
        var (_, sink) = await CrawlAsync(Options([server]));

        var record = Assert.Single(sink.Records);
        Assert.Equal(GrabOutcome.Closed, record.Outcome);
        Assert.True(record.Data.IsEmpty);
    }

    [Fact]
    public async Task RunAsync_SeveralHostsAndPorts_VisitsEveryPairOnce()
    {
        await using var ssh = LoopbackServer.TalkFirst("SSH-2.0-Test\r\n");
        await using var ftp = LoopbackServer.TalkFirst("220 test FTP ready\r\n");
        await using var http = LoopbackServer.SilentHttp("HTTP/1.0 200 OK\r\n\r\n");
        // Each listener is counted once, so a loaded machine's late banner must not start probes on new connections.
        var options = Options([ssh, ftp, http]) with
        {
            HttpPorts = http.Port.ToString(CultureInfo.InvariantCulture), Concurrency = 4,
            BannerWait = TimeSpan.FromSeconds(2), ReadTimeout = TimeSpan.FromSeconds(2), TargetDeadline = TimeSpan.FromSeconds(10),
        };
        var progress = new List<CrawlProgress>();
        var summary = await new CrawlRunner().RunAsync(options, new MemorySink(), new SynchronousProgress(progress), Ct).WaitAsync(TestTimeout, Ct);

        Assert.Equal(3UL, summary.Targets);
        Assert.Equal(9UL, summary.Planned);
        Assert.Equal(9, summary.Attempted);
        Assert.Equal(3, summary.Open);
        Assert.Equal(6, summary.Outcomes[GrabOutcome.Refused]);
        Assert.Equal(1, ssh.Accepted);
        Assert.Equal(1, ftp.Accepted);
        Assert.Equal(1, http.Accepted);
        Assert.NotEmpty(progress);
        Assert.Equal(9, progress[^1].Attempted);
    }

    [Fact]
    public async Task RunAsync_UdpPortsWithoutAnswer_AreProbedAndProduceNoRecord()
    {
        await using var server = LoopbackServer.TalkFirst("SSH-2.0-Test\r\n");
        var options = Options([server]) with { Ports = $"T:{server.Port},U:53,161" };
        var (summary, sink) = await CrawlAsync(options);

        var record = Assert.Single(sink.Records);
        Assert.Equal(Transport.Tcp, record.Transport);
        Assert.Equal(2, summary.UdpPorts);
        Assert.Equal(0UL, summary.UdpNotProbed);
        Assert.Equal(3UL, summary.Planned);
        Assert.Equal(3, summary.Attempted);
    }

    [Fact]
    public async Task RunAsync_OnlyUdpPorts_ProbesUdpAndNeverConnectsTcp()
    {
        await using var server = LoopbackServer.TalkFirst("SSH-2.0-Test\r\n");
        var options = Options([server]) with { Ports = "U:53,123,161" };
        var (summary, sink) = await CrawlAsync(options);

        Assert.Empty(sink.Records);
        Assert.Equal(3UL, summary.Planned);
        Assert.Equal(3, summary.Attempted);
        Assert.Equal(0, server.Accepted);
    }

    [Fact]
    public async Task RunAsync_UdpServiceAnswers_EmitsAUdpRecord()
    {
        var address = Loopback.NextAddress();
        using var udp = new UdpClient(new IPEndPoint(address, 0));
        var port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var responder = Task.Run(async () =>
        {
            for (var i = 0; i < 64; i++)
            {
                try
                {
                    var request = await udp.ReceiveAsync(stop.Token);
                    await udp.SendAsync("udp says hi"u8.ToArray(), request.RemoteEndPoint, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }, Ct);
        var options = Options([]) with { Targets = [address.ToString()], Ports = $"U:{port}" };
        var (summary, sink) = await CrawlAsync(options);
        await stop.CancelAsync();
        await responder.WaitAsync(TestTimeout, Ct);

        var record = Assert.Single(sink.Records);
        Assert.Equal(Transport.Udp, record.Transport);
        Assert.Equal((uint)port, record.Port);
        Assert.Equal("udp says hi", record.Data.ToStringUtf8());
        Assert.Equal(1, summary.Open);
    }

    [Fact]
    public async Task RunAsync_DeepGrab_MergesGrabberFindingsWithTheProbeMatch()
    {
        const string response = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\nContent-Length: 44\r\n\r\n<html><title>Deep grab test</title></html>\r\n";
        await using var server = LoopbackServer.SilentHttp(response);
        var options = Options([server]) with { HttpPorts = server.Port.ToString(CultureInfo.InvariantCulture), DeepGrab = true, TargetDeadline = TimeSpan.FromSeconds(8) };
        var (_, sink) = await CrawlAsync(options);

        var record = Assert.Single(sink.Records);
        Assert.Equal("nginx", record.Product);
        Assert.Equal("1.22.1", record.Version);
        Assert.Contains(record.Cpe23, c => c.StartsWith("cpe:2.3:a:f5:nginx:1.22.1:", StringComparison.Ordinal) || c.Contains(":nginx:1.22.1:", StringComparison.Ordinal));
        Assert.Equal(GrabOutcome.Success, record.Outcome);
        // The HTTP grabber's section and banner text (status line and headers).
        Assert.NotNull(record.Http);
        Assert.Equal(200, record.Http.Status);
        Assert.StartsWith("HTTP/1.1 200 OK", record.Data.ToStringUtf8(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_IPv6Loopback_IsScannedWhenAllowed()
    {
        if (!Socket.OSSupportsIPv6)
        {
            Requires.SkipOrFail("IPv6 is not available on this machine");
        }

        LoopbackServer server;
        try
        {
            server = LoopbackServer.TalkFirst("SSH-2.0-Six\r\n", IPAddress.IPv6Loopback);
        }
        catch (SocketException e)
        {
            Requires.SkipOrFail($"cannot listen on [::1]: {e.SocketErrorCode}");
            return;
        }

        await using (server)
        {
            var (_, sink) = await CrawlAsync(Options([server]));
            var record = Assert.Single(sink.Records);
            Assert.Equal("::1", record.Ip);
            Assert.Equal("SSH-2.0-Six\r\n", record.Data.ToStringUtf8());
        }
    }

    [Fact]
    public async Task RunAsync_LoopbackNotAllowed_RefusesBeforeSendingAnything()
    {
        await using var server = LoopbackServer.TalkFirst("SSH-2.0-Test\r\n");
        var options = Options([server]) with { AllowLoopback = false };
        var sink = new MemorySink();

        var e = await Assert.ThrowsAsync<TargetsRefusedException>(() => new CrawlRunner().RunAsync(options, sink, null, Ct).WaitAsync(TestTimeout, Ct));
        Assert.Equal($"refusing {server.Address}: loopback (RFC 1122) - pass --allow-loopback to scan it", e.Message);
        Assert.Equal(0, server.Accepted);
        Assert.Empty(sink.Records);
    }

    [Fact]
    public async Task RunAsync_InvalidOptions_ThrowsWithEveryError()
    {
        var options = new CrawlOptions { Targets = [], Concurrency = -1 };
        var e = await Assert.ThrowsAsync<CrawlOptionsException>(() => new CrawlRunner().RunAsync(options, new MemorySink(), null, Ct).WaitAsync(TestTimeout, Ct));
        Assert.Equal(["Targets", "Concurrency"], e.Errors.Select(x => x.Option));
    }

    [Fact]
    public async Task RunAsync_Cancelled_DrainsInFlightGrabAndCompletesTheSink()
    {
        // Five silent hosts, one worker: the first open port's grab is in flight when the test cancels.
        var servers = Enumerable.Range(0, 5).Select(_ => LoopbackServer.Silent()).ToList();
        try
        {
            var options = Options([]) with
            {
                Targets = [.. servers.Select(s => s.Address.ToString())],
                Ports = string.Join(',', servers.Select(s => s.Port).Distinct()),
                Concurrency = 1,
            };
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var sink = new MemorySink();
            var run = new CrawlRunner().RunAsync(options, sink, null, cts.Token);
            await Task.WhenAny(servers.Select(s => s.FirstConnection.Task)).WaitAsync(TestTimeout, Ct);
            await cts.CancelAsync();
            var summary = await run.WaitAsync(TestTimeout, Ct);

            // Earlier pairs may have been refused (closed ports on other hosts); exactly one was open and in flight.
            // Its identification may open several probe connections, all to that one host.
            Assert.True(summary.Cancelled);
            Assert.True(summary.Attempted < (long)summary.Planned, $"{summary.Attempted} of {summary.Planned} attempted");
            Assert.Equal(1, summary.Open);
            Assert.Single(sink.Records);
            Assert.True(sink.Completed);
            Assert.Equal(1, servers.Count(s => s.Accepted > 0));
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task RunAsync_SinkFails_StopsAndThrowsWithSummary()
    {
        await using var server = LoopbackServer.TalkFirst("SSH-2.0-Test\r\n");
        var sink = new MemorySink(failOnWrite: 1);
        var e = await Assert.ThrowsAsync<CrawlSinkException>(() => new CrawlRunner().RunAsync(Options([server]), sink, null, Ct).WaitAsync(TestTimeout, Ct));
        Assert.Contains("disk full (test)", e.Message, StringComparison.Ordinal);
        Assert.NotNull(e.Summary);
        Assert.Equal(1, e.Summary.Open);
        Assert.Equal(0, e.Summary.RecordsWritten);
        Assert.False(sink.Completed);
    }

    [Fact]
    public async Task RunAsync_ManyRecords_AreBatchedWithinBatchSize()
    {
        var servers = Enumerable.Range(0, 10).Select(_ => LoopbackServer.TalkFirst("220 mail.example ESMTP\r\n")).ToList();
        try
        {
            var options = Options([]) with
            {
                Targets = [.. servers.Select(s => s.Address.ToString())],
                Ports = string.Join(',', servers.Select(s => s.Port).Distinct()),
                BatchSize = 3,
                ReadTimeout = TimeSpan.FromMilliseconds(200),
            };
            var (summary, sink) = await CrawlAsync(options);
            Assert.Equal(10, summary.Open);
            Assert.Equal(10, sink.Records.Count);
            Assert.All(sink.BatchSizes, size => Assert.InRange(size, 1, 3));
            Assert.All(sink.Records, r => Assert.Equal("smtp", r.Module));
            Assert.Equal(servers.Select(s => s.Address.ToString()).Order(), sink.Records.Select(r => r.Ip).Distinct().Order());
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    private sealed class SynchronousProgress(List<CrawlProgress> reports) : IProgress<CrawlProgress>
    {
        public void Report(CrawlProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
