using System.Globalization;
using System.Net;
using ExposureIndex.TestCommon;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Daemons.Framework;

public sealed class DaemonFrameworkTests
{
    [Theory]
    [InlineData("1:9.2p1-2+deb12u10", "9.2p1")]
    [InlineData("5:7.0.15-1~deb12u10", "7.0.15")]
    [InlineData("1.22.1-9+deb12u11", "1.22.1")]
    [InlineData("1:10.11.19-0+deb12u1", "10.11.19")]
    [InlineData("2:1.3.2+ds1-1", "1.3.2+ds1")]
    [InlineData("1.2-3-4", "1.2-3")]
    [InlineData("15+248+deb12u1", "15+248+deb12u1")]
    public void UpstreamVersion_DebianVersion_DropsEpochAndRevision(string debian, string upstream)
        => Assert.Equal(upstream, Dpkg.UpstreamVersion(debian));

    [Fact]
    public void TryParseStat_CommWithParenthesesAndSpaces_ReadsFieldsAfterTheLastParen()
    {
        var line = "4242 (a) b (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615";

        var stat = Posix.TryParseStat(line);

        Assert.Equal(new ProcStat(4242, 17, 'S', 987654), stat);
    }

    [Fact]
    public void TryParseStat_Truncated_ReturnsNull()
        => Assert.Null(Posix.TryParseStat("4242 (x) S 1 2"));

    [Fact]
    public void Constructor_NonLoopbackAddress_Throws()
    {
        var options = new DaemonOptions { Address = IPAddress.Parse("192.0.2.1") };

        var error = Assert.Throws<ArgumentException>(() => new ShellDaemon("exit 0", options));

        Assert.Contains("192.0.2.1", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task LaunchAsync_DaemonExitsEarly_FailsWithExitCodeAndLogTail()
    {
        var daemon = new ShellDaemon("echo 'fixture broke: reason-7f3a' >&2; exit 3");

        var error = await Assert.ThrowsAsync<DaemonStartException>(() => daemon.StartAsync(DaemonAssert.Ct));

        Assert.Contains("with code 3 before it was ready", error.Message, StringComparison.Ordinal);
        Assert.Contains("fixture broke: reason-7f3a", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(daemon.TempDirectory));
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task LaunchAsync_NeverReady_TimesOutAndKillsTheProcess()
    {
        // Logs a line, then waits without ever listening; the start timeout must end it.
        var daemon = new ShellDaemon("echo 'still booting'; exec sleep 300", new DaemonOptions { StartTimeout = TimeSpan.FromSeconds(5), StopGrace = TimeSpan.FromSeconds(5) });

        var error = await Assert.ThrowsAsync<DaemonStartException>(() => daemon.StartAsync(DaemonAssert.Ct));

        Assert.Contains("was not ready within 5 s", error.Message, StringComparison.Ordinal);
        Assert.Contains("still booting", error.Message, StringComparison.Ordinal);
        Assert.False(DaemonProcess.IsRunning(daemon.Pid), $"pid {daemon.Pid} survived a failed start.");
        Assert.False(Directory.Exists(daemon.TempDirectory));
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task DisposeAsync_IgnoresSigterm_EscalatesToSigkill()
    {
        // A listener that traps SIGTERM: only SIGKILL after the grace period stops it.
        var python = Requires.Executable(RepoPaths.SystemPython, "python3");
        var daemon = new ShellDaemon(
            "trap '' TERM; exec " + python + " -c \"import signal,socket;signal.signal(signal.SIGTERM,signal.SIG_IGN);s=socket.socket();s.bind(('$ADDR',$PORT));s.listen();signal.pause()\"",
            new DaemonOptions { StopGrace = TimeSpan.FromMilliseconds(500) });
        await daemon.StartAsync(DaemonAssert.Ct);

        await DaemonAssert.StopsCleanlyAsync(daemon);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_ForkingDaemon_AdoptsThePidFromItsPidFile()
    {
        var redis = new DaemonizedRedis();
        await redis.StartAsync(DaemonAssert.Ct);

        var pidFromFile = int.Parse(await File.ReadAllTextAsync(Path.Combine(redis.TempDirectory, "redis.pid"), DaemonAssert.Ct), CultureInfo.InvariantCulture);
        Assert.Equal(pidFromFile, redis.Pid);
        Assert.Equal("+PONG\r\n", await WireProbe.ExchangeTextAsync(redis.EndPoint, "PING\r\n", "\r\n", DaemonAssert.NetTimeout, DaemonAssert.Ct));

        await DaemonAssert.StopsCleanlyAsync(redis);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_AsRoot_UsesTheWellKnownPort()
    {
        Assert.SkipUnless(Environment.UserName == "root", "Binding ports below 1024 needs root; as another user fixtures take a free port.");
        await using var nginx = await NginxDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        await using var redis = await RedisDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        Assert.Equal(NginxDaemon.WellKnownPort, nginx.Port);
        Assert.Equal(RedisDaemon.WellKnownPort, redis.Port);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_ExplicitPort_IsUsed()
    {
        var address = Loopback.NextAddress();
        var port = Loopback.FreeTcpPort(address);

        await using var redis = await RedisDaemon.StartAsync(new DaemonOptions { Address = address, Port = port }, DaemonAssert.Ct);

        Assert.Equal(new IPEndPoint(address, port), redis.EndPoint);
        Assert.True(await WireProbe.TryConnectAsync(redis.EndPoint, DaemonAssert.NetTimeout, DaemonAssert.Ct));
    }

    /// <summary>A shell script as a "daemon"; $ADDR and $PORT are exported to it.</summary>
    private sealed class ShellDaemon(string script, DaemonOptions? options = null)
        : Daemon("shell", new DaemonIdentity("sh", "0", "0", "dash", "/bin/sh"), options, wellKnownPort: 0)
    {
        public Task StartAsync(CancellationToken cancellationToken) => LaunchAsync(cancellationToken);

        protected override Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        protected override DaemonCommand CreateCommand() => new("/bin/sh", ["-c", script])
        {
            Environment = new Dictionary<string, string> { ["ADDR"] = Address.ToString(), ["PORT"] = Port.ToString(CultureInfo.InvariantCulture) },
        };
    }

    /// <summary>redis-server left to daemonize itself, to exercise pid-file adoption.</summary>
    private sealed class DaemonizedRedis() : Daemon("redis-forking", RedisDaemon.Installed(), null, wellKnownPort: 0)
    {
        protected override string? DaemonizedPidFile => PathIn("redis.pid");

        protected override IEnumerable<string> LogFiles => [PathIn("redis.log")];

        public Task StartAsync(CancellationToken cancellationToken) => LaunchAsync(cancellationToken);

        protected override Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        protected override DaemonCommand CreateCommand() => new(Identity.Executable,
        [
            "--bind", Address.ToString(),
            "--port", Port.ToString(CultureInfo.InvariantCulture),
            "--protected-mode", "no",
            "--save", string.Empty,
            "--appendonly", "no",
            "--daemonize", "yes",
            "--pidfile", PathIn("redis.pid"),
            "--logfile", PathIn("redis.log"),
            "--dir", TempDirectory,
        ]);
    }
}
