using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Tests.Checkpointing;

/// <summary>
/// Interrupt a sweep at random points, resume it, and check the two runs together: every triple of the plan
/// is done, and only triples that were in flight at the interruption are done twice. The "workers" are a
/// deterministic simulation (seeded), so the interleavings vary widely and never flake.
/// </summary>
public sealed class ResumeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("exposure-resume-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly CancellationToken Ct = CancellationToken.None;

    /// <summary>
    /// Runs the plan with <paramref name="slots"/> simulated workers finishing in random order, saving a
    /// checkpoint every <paramref name="checkpointEvery"/> completions. Stops after <paramref name="stopAfter"/>
    /// completions: <paramref name="graceful"/> drains and saves, otherwise it "crashes" right after a save.
    /// </summary>
    private static async Task<(List<ScanTriple> Done, ulong Saved, ulong TakenAtStop)> RunAsync(SweepPlan plan, CheckpointStore store, bool resume,
        Random random, int slots, int checkpointEvery, long stopAfter, bool graceful)
    {
        var start = resume ? store.ResumePosition(plan, out _) : 0;
        var cursor = new SweepCursor(plan.Order, start);
        var writer = new CheckpointWriter(store, plan, cursor, _ => ValueTask.CompletedTask, () => (0, 0), TimeProvider.System);
        var inFlight = new List<(ulong Position, ScanTriple Triple)>();
        var done = new List<ScanTriple>();
        var exhausted = false;
        ulong saved = start;
        // Bounded: every pass takes or completes one position of a finite shard.
        while (true)
        {
            if (done.Count >= stopAfter)
            {
                if (graceful)
                {
                    // SIGTERM: take nothing new, finish what is in flight, save.
                    foreach (var (position, triple) in inFlight)
                    {
                        done.Add(triple);
                        cursor.Complete(position);
                    }

                    inFlight.Clear();
                }

                saved = (await writer.SaveAsync(Ct)).Position;
                return (done, saved, cursor.Taken);
            }

            var take = !exhausted && inFlight.Count < slots && (inFlight.Count == 0 || random.Next(3) != 0);
            if (take)
            {
                if (cursor.TryTake(out var position, out var triple))
                {
                    inFlight.Add((position, triple));
                    continue;
                }

                exhausted = true;
            }

            if (inFlight.Count == 0)
            {
                saved = (await writer.SaveAsync(Ct)).Position;
                return (done, saved, cursor.Taken);
            }

            var pick = random.Next(inFlight.Count);
            var finished = inFlight[pick];
            inFlight.RemoveAt(pick);
            done.Add(finished.Triple);
            cursor.Complete(finished.Position);
            if (done.Count % checkpointEvery == 0)
            {
                saved = (await writer.SaveAsync(Ct)).Position;
            }
        }
    }

    public static TheoryData<int, bool> Interruptions()
    {
        var data = new TheoryData<int, bool>();
        for (var seed = 1; seed <= 12; seed++)
        {
            data.Add(seed, true);
            data.Add(seed, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Interruptions))]
    public async Task Resume_InterruptedAtRandomPoint_UnionIsThePlanAndRepeatsStayInTheWindow(int seed, bool graceful)
    {
        var random = new Random(seed);
        var plan = CheckpointTestPlans.Plan("8.8.0.0/25", "22,80,443,U:53", seed: (ulong)seed, shard: new ShardSpec(seed % 3, 3));
        var store = new CheckpointStore(Path.Combine(_dir, $"cp-{seed}-{graceful}.json"));
        var slots = random.Next(1, 40);
        var stopAfter = random.NextInt64(0, (long)plan.Order.Count);

        var (first, saved, takenAtStop) = await RunAsync(plan, store, resume: false, random, slots, checkpointEvery: random.Next(1, 50), stopAfter, graceful);
        var (second, _, _) = await RunAsync(plan, store, resume: true, random, random.Next(1, 40), checkpointEvery: 25, long.MaxValue, graceful: true);

        var all = first.Concat(second).ToList();
        var expected = plan.Order.Enumerate().ToHashSet();
        Assert.Equal(expected, all.ToHashSet());

        var repeated = first.Intersect(second).ToList();
        if (graceful)
        {
            Assert.Empty(repeated);
        }
        else
        {
            // Only what finished above the saved low-water mark is done again: every repeat lies in the in-flight
            // window [saved, taken) of the interrupted run. (The window is not bounded by the worker count: one slow
            // target holds the mark while the others move on, which is why the engine bounds each grab's time.)
            var positions = plan.Order.Enumerate().Select((triple, i) => (triple, i)).ToDictionary(x => x.triple, x => (ulong)x.i);
            Assert.All(repeated, triple => Assert.InRange(positions[triple], saved, takenAtStop - 1));
            Assert.True((ulong)repeated.Count <= takenAtStop - saved, $"{repeated.Count} repeats, window {takenAtStop - saved}");
        }

        Assert.True(store.TryLoad(out var final, out _));
        Assert.True(final!.IsFinished);
    }

    [Fact]
    public async Task Resume_FinishedCheckpoint_DoesNothingMore()
    {
        var plan = CheckpointTestPlans.Plan("8.8.8.0/29", "22");
        var store = new CheckpointStore(Path.Combine(_dir, "done.json"));
        var (first, _, _) = await RunAsync(plan, store, resume: false, new Random(1), 4, 3, long.MaxValue, graceful: true);
        var (second, _, _) = await RunAsync(plan, store, resume: true, new Random(2), 4, 3, long.MaxValue, graceful: true);
        Assert.Equal((int)plan.Order.Count, first.Count);
        Assert.Empty(second);
    }
}
