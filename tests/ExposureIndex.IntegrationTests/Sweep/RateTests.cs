using System.Diagnostics;
using System.Globalization;
using ExposureIndex.TestCommon;

namespace ExposureIndex.IntegrationTests.Sweep;

/// <summary>Timing-sensitive sweeps run alone, not beside the rest of the suite.</summary>
[CollectionDefinition(nameof(SweepTimingCollection), DisableParallelization = true)]
public sealed class SweepTimingCollection;

/// <summary>
/// `--rate` over a real loopback sweep (closed ports on fresh 127.x addresses: every attempt is answered by an RST
/// at once, so the limiter alone sets the pace). Issue 4's target is the rate honoured within 5%; this checks it
/// three ways against the wall clock: the crawl's own stats (attempts over its elapsed time) within 5%; the run as
/// timed from outside never faster than the limit allows; and the rate between a short and a long run, which cancels
/// process start-up, within a looser 15% because start-up time on a shared two-core machine varies between runs.
/// </summary>
[Collection(nameof(SweepTimingCollection))]
public sealed class RateTests : IDisposable
{
    private const double Rate = 2000;
    private readonly string _dir = Directory.CreateTempSubdirectory("exposure-rate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(double Wall, System.Text.Json.JsonElement Stats)> SweepAsync(IReadOnlyList<System.Net.IPAddress> addresses, string name)
    {
        var stats = Path.Combine(_dir, name + ".json");
        var clock = Stopwatch.StartNew();
        var (exit, _, stderr) = await CliProcess.RunAsync(
        [
            "crawl", "--targets", string.Join(',', addresses), "--ports", "40000-40999", "--allow-loopback", "--seed", "11",
            "--rate", Rate.ToString(CultureInfo.InvariantCulture), "--concurrency", "256", "-o", Path.Combine(_dir, name + ".ndjson"),
            "--stats", stats, "--quiet",
        ], TimeSpan.FromSeconds(120));
        var wall = clock.Elapsed.TotalSeconds;
        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        return (wall, SweepFiles.Stats(stats));
    }

    [Fact]
    public async Task Rate_LoopbackSweep_IsHonouredAgainstTheWallClock()
    {
        var addresses = Enumerable.Range(0, 10).Select(_ => Loopback.NextAddress()).ToList();
        var (shortWall, shortStats) = await SweepAsync(addresses[..2], "short");
        var (longWall, longStats) = await SweepAsync(addresses, "long");

        Assert.Equal(2000UL, SweepFiles.UInt(shortStats, "attempted"));
        Assert.Equal(10_000UL, SweepFiles.UInt(longStats, "attempted"));
        Assert.True(longStats.GetProperty("complete").GetBoolean());

        var engine = 10_000 / longStats.GetProperty("elapsed_seconds").GetDouble();
        Assert.InRange(engine, Rate * 0.95, Rate * 1.05);

        // The limiter grants at most rate x seconds + its burst (1% of a second's worth), whatever the clock reading.
        var burst = Math.Ceiling(Rate / 100);
        Assert.True(longWall >= (10_000 - burst) / Rate, $"10,000 attempts took {longWall:0.000} s from outside: faster than {Rate}/s");

        var differential = (10_000 - 2000) / (longWall - shortWall);
        Assert.InRange(differential, Rate * 0.85, Rate * 1.15);
    }
}
