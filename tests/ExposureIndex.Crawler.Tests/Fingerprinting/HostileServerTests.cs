using System.Diagnostics;
using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Fingerprinting.Probes;
using static ExposureIndex.Crawler.Tests.Fingerprinting.EngineHarness;

namespace ExposureIndex.Crawler.Tests.Fingerprinting;

/// <summary>
/// Servers that try to hold the engine: every identification must end within the target's deadline and keep at
/// most the byte cap per response, whatever the peer does. Bounds here are generous (no timing assertions on
/// speed), they only prove that nothing hangs or grows without limit.
/// </summary>
public sealed class HostileServerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Bound = Deadline + TimeSpan.FromSeconds(6);

    private static async Task<(ServiceIdentification Result, TimeSpan Took)> RunAsync(ScriptedServer server, ProbeCatalog? catalog = null, ScanSettings? settings = null)
    {
        var clock = Stopwatch.StartNew();
        var result = await IdentifyAsync(Scanner(catalog ?? ProbeCatalog.Default, settings), server, Deadline);
        return (result, clock.Elapsed);
    }

    [Fact]
    public async Task IdentifyTcpAsync_Tarpit_EndsByTheDeadlineWithNothing()
    {
        await using var server = ScriptedServer.Respond(null, _ => null);
        var (result, took) = await RunAsync(server);

        Assert.Null(result.Service);
        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Empty(result.Response);
        Assert.True(took < Bound, $"took {took}");
    }

    [Fact]
    public async Task IdentifyTcpAsync_EndlessBanner_StopsAtTheByteCap()
    {
        await using var server = new ScriptedServer(async (stream, ct) =>
        {
            var line = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("220 endless banner line\r\n", 200)));
            for (var sent = 0L; sent < 256L * 1024 * 1024 && !ct.IsCancellationRequested; sent += line.Length)
            {
                await stream.WriteAsync(line, ct);
            }
        });
        var settings = FastSettings() with { MaxResponseBytes = 20_000 };
        var (result, took) = await RunAsync(server, settings: settings);

        Assert.True(result.Truncated);
        Assert.Equal(20_000, result.Banner.Length);
        Assert.StartsWith("220 endless banner line", Encoding.ASCII.GetString(result.Banner), StringComparison.Ordinal);
        Assert.True(took < Bound, $"took {took}");
    }

    [Fact]
    public async Task IdentifyTcpAsync_SlowDrip_IsCutByTheDeadlineKeepingPartialData()
    {
        await using var server = new ScriptedServer(async (stream, ct) =>
        {
            for (var i = 0; i < 10_000 && !ct.IsCancellationRequested; i++)
            {
                await stream.WriteAsync("."u8.ToArray(), ct);
                await Task.Delay(40, ct);
            }
        });
        var (result, took) = await RunAsync(server, settings: FastSettings() with { QuietGap = TimeSpan.FromMilliseconds(500) });

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Contains("deadline", result.Error, StringComparison.Ordinal);
        Assert.NotEmpty(result.Banner);
        Assert.All(result.Banner, b => Assert.Equal((byte)'.', b));
        Assert.True(took < Bound, $"took {took}");
    }

    [Fact]
    public async Task IdentifyTcpAsync_GarbageAfterClientHello_EndsWithoutTls()
    {
        // Listed as a TLS port (443 in our file's sslports is the case that matters; any listed port behaves alike).
        const string probes = """
            Probe TCP NULL q||
            Probe TCP Get q|GET / HTTP/1.0\r\n\r\n|
            rarity 1
            sslports 1-65535
            match http m|^HTTP/1\.0 200|
            """;
        await using var server = new ScriptedServer(async (stream, ct) =>
        {
            var buffer = new byte[4096];
            if (await stream.ReadAsync(buffer, ct) > 0)
            {
                // Looks like a TLS record header, then nonsense.
                await stream.WriteAsync(new byte[] { 0x16, 0x03, 0x03, 0x40, 0x00 }.Concat(Enumerable.Repeat((byte)0xAB, 3000)).ToArray(), ct);
            }
        });
        var (result, took) = await RunAsync(server, Catalog(probes));

        Assert.NotEqual("http", result.Service);
        Assert.True(took < Bound, $"took {took}");
    }

    [Fact]
    public async Task IdentifyTcpAsync_MegabytesForEveryProbe_KeepsEachResponseCapped()
    {
        await using var server = new ScriptedServer(async (stream, ct) =>
        {
            var buffer = new byte[4096];
            if (await stream.ReadAsync(buffer, ct) > 0)
            {
                var chunk = new byte[64 * 1024];
                Array.Fill(chunk, (byte)'x');
                for (var i = 0; i < 64 && !ct.IsCancellationRequested; i++)
                {
                    await stream.WriteAsync(chunk, ct);
                }
            }
        });
        var settings = FastSettings() with { MaxResponseBytes = 8 * 1024 };
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var (result, took) = await RunAsync(server, settings: settings);

        Assert.True(result.Response.Length <= settings.MaxResponseBytes, $"{result.Response.Length} bytes kept");
        Assert.True(result.Truncated);
        Assert.True(took < Bound, $"took {took}");
        // Several megabytes were offered per probe; what the engine holds stays around the per-response caps.
        Assert.True(GC.GetTotalMemory(forceFullCollection: true) - before < 16 * 1024 * 1024);
    }

    [Fact]
    public async Task IdentifyTcpAsync_RegexBombInput_HitsTheMatchTimeoutNotAHang()
    {
        // (a+)+$ against "aaaa...ab" backtracks exponentially: only the per-regex timeout can end it.
        const string probes = """
            Probe TCP NULL q||
            match bomb m|^(a+)+$|
            match bomb2 m=^(a|aa)+$=
            match fine m|^a+b\r\n| p/Fine/
            """;
        await using var server = ScriptedServer.Respond(new string('a', 40) + "b\r\n", _ => null);
        var matcher = new ProbeMatcher(Catalog(probes));
        var scanner = new ServiceScanner(matcher, ExposureIndex.Grabbers.SocketGrabNetwork.Instance, FastSettings(), TimeProvider.System);
        var clock = Stopwatch.StartNew();
        var result = await IdentifyAsync(scanner, server, Deadline);

        Assert.True(matcher.Timeouts >= 1, "the catastrophic pattern must time out");
        Assert.Equal("fine", result.Service);
        Assert.True(clock.Elapsed < Bound, $"took {clock.Elapsed}");
    }
}
