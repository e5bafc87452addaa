using System.Globalization;
using System.Text.RegularExpressions;
using ExposureIndex.TestCommon;

namespace ExposureIndex.IntegrationTests.Sweep;

/// <summary>
/// Issue 4 §6: an interrupted sweep resumes from its checkpoint without repeating finished work. The real CLI is
/// stopped mid-sweep by SIGTERM (it drains: nothing is repeated) and by SIGKILL (no drain: only what the last
/// checkpoint had not covered is repeated), then rerun with --resume; the union of both runs is the plan.
/// </summary>
public sealed partial class ResumeTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private readonly string _dir = Directory.CreateTempSubdirectory("exposure-resume-").FullName;
    private readonly Listeners _listeners = new(addresses: 20, ports: 3);

    public void Dispose()
    {
        _listeners.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Output => Path.Combine(_dir, "records.ndjson");

    private string Checkpoint => Path.Combine(_dir, "sweep.checkpoint.json");

    private string Stats(int run) => Path.Combine(_dir, $"stats-{run}.json");

    /// <summary>Every listener's ports plus closed ones, 100 attempts a second: about four seconds of sweep.</summary>
    private string[] Crawl(int run, params string[] more) =>
    [
        "crawl", "--targets", _listeners.TargetList,
        "--ports", string.Join(',', _listeners.Ports.Concat(Enumerable.Range(41000, 1000).Except(_listeners.Ports).Take(17))), "--allow-loopback", "--seed", "2026",
        "--rate", "100", "--output", Output, "--checkpoint", Checkpoint, "--checkpoint-interval", "300ms", "--stats", Stats(run),
        "--banner-wait", "300ms", "--read-timeout", "300ms", "--no-deep-grab", "--quiet", .. more,
    ];

    private async Task WaitForRecordsAsync(CliProcess crawl, int count)
        => Assert.True(await Poll.UntilAsync(() => File.Exists(Output) && File.ReadAllLines(Output).Length >= count, TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken),
            $"no {count} records appeared:\n{crawl.Stderr}");

    [Fact]
    public async Task Sigterm_MidSweep_DrainsAndCheckpoints_ResumeFinishesWithoutRepeats()
    {
        using (var first = CliProcess.Start(Crawl(1)))
        {
            await WaitForRecordsAsync(first, 5);
            first.Terminate();
            Assert.Equal(143, await first.WaitAsync(Timeout));
            Assert.Contains("run the same command with --resume", first.Stderr, StringComparison.Ordinal);
        }

        var stopped = SweepFiles.Stats(Stats(1));
        var planned = SweepFiles.UInt(stopped, "planned");
        var done = SweepFiles.UInt(stopped, "done");
        Assert.True(stopped.GetProperty("cancelled").GetBoolean());
        Assert.True(done < planned, $"the sweep was not interrupted: {done} of {planned}");
        // Drained: every attempt made was finished and checkpointed.
        Assert.Equal(done, SweepFiles.UInt(stopped, "attempted"));
        Assert.Equal(done, SweepFiles.CheckpointPosition(Checkpoint));

        var (exit, _, stderr) = await CliProcess.RunAsync(Crawl(2, "--resume"), Timeout);
        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        var resumed = SweepFiles.Stats(Stats(2));
        Assert.Equal(done, SweepFiles.UInt(resumed, "resumed_from"));
        Assert.Equal(planned - done, SweepFiles.UInt(resumed, "attempted"));
        Assert.True(resumed.GetProperty("complete").GetBoolean());

        var keys = SweepFiles.RecordKeys(Output);
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(_listeners.Keys, keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task KillNine_MidSweep_ResumeRepeatsOnlyWhatTheLastCheckpointDidNotCover()
    {
        using (var first = CliProcess.Start(Crawl(1)))
        {
            await WaitForRecordsAsync(first, 5);
            Assert.True(await Poll.UntilAsync(() => File.Exists(Checkpoint) && SweepFiles.CheckpointPosition(Checkpoint) > 0, TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
            first.KillNine();
            Assert.Equal(137, await first.WaitAsync(Timeout));
        }

        var checkpointed = SweepFiles.CheckpointPosition(Checkpoint);
        var (exit, _, stderr) = await CliProcess.RunAsync(Crawl(2, "--resume"), Timeout);
        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        var resumed = SweepFiles.Stats(Stats(2));
        var planned = SweepFiles.UInt(resumed, "planned");
        Assert.True(checkpointed < planned, "the sweep was not interrupted");
        Assert.Equal(checkpointed, SweepFiles.UInt(resumed, "resumed_from"));
        Assert.Equal(planned - checkpointed, SweepFiles.UInt(resumed, "attempted"));

        // Every line is a whole record (a line torn by the kill was cut before appending), every listener is there,
        // and the only repeats are targets at or after the checkpoint: the window the kill left unconfirmed.
        var keys = SweepFiles.RecordKeys(Output);
        Assert.Equal(_listeners.Keys, keys.Distinct().Order(StringComparer.Ordinal));
        var positions = await PlanPositionsAsync();
        var repeated = keys.GroupBy(k => k).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.All(repeated, key => Assert.True(positions[key] >= checkpointed, $"{key} at position {positions[key]} was done before checkpoint {checkpointed} yet repeated"));
        Assert.All(keys.GroupBy(k => k), g => Assert.InRange(g.Count(), 1, 2));
    }

    /// <summary>The sweep's own order, from its dry run: ip:port to shard position.</summary>
    private async Task<Dictionary<string, ulong>> PlanPositionsAsync()
    {
        var args = Crawl(3).ToList();
        args.Add("--dry-run");
        var (exit, stdout, stderr) = await CliProcess.RunAsync(args, Timeout);
        Assert.True(exit == 0, stderr);
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select((line, i) => (Key: TransportSuffix().Replace(line, string.Empty), Position: (ulong)i))
            .ToDictionary(x => x.Key, x => x.Position);
    }

    [GeneratedRegex("/tcp$")]
    private static partial Regex TransportSuffix();
}
