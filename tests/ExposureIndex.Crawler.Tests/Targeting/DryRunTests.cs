using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Tests.Targeting;

/// <summary>The dry run is the main test surface of targeting: what it prints is exactly what a sweep would try.</summary>
public sealed class DryRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("exposure-dryrun-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<string> Lines(SweepPlan plan, ulong from = 0)
    {
        using var output = new StringWriter();
        var written = DryRun.Write(plan.Order, output, from);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.Equal(written, (ulong)lines.Count);
        return lines;
    }

    private static SweepPlan Plan(string targets, string ports, ulong seed = 1, ShardSpec? shard = null, bool allowPrivate = false,
        bool allowLoopback = false, params string[] exclude)
        => SweepPlan.Create(new SweepRequest
        {
            Targets = [targets],
            Ports = ports,
            Seed = seed,
            Shard = shard ?? ShardSpec.Single,
            AllowPrivate = allowPrivate,
            AllowLoopback = allowLoopback,
            ExcludeFiles = exclude,
        });

    private static IEnumerable<string> Product(IEnumerable<string> hosts, IEnumerable<string> portsAndTransports)
        => from h in hosts from p in portsAndTransports select $"{h}:{p}";

    [Fact]
    public void Write_SmallPlan_PrintsExactlyTheProductOnce()
    {
        var lines = Lines(Plan("8.8.8.0/30", "22,80,U:53"));
        var expected = Product(["8.8.8.0", "8.8.8.1", "8.8.8.2", "8.8.8.3"], ["22/tcp", "80/tcp", "53/udp"]).ToHashSet();
        Assert.Equal(12, lines.Count);
        Assert.Equal(expected, lines.ToHashSet());
    }

    [Fact]
    public void Write_IPv6_IsBracketed()
    {
        var lines = Lines(Plan("2001:4860:4860::8888,2001:4860:4860::8844", "443"));
        Assert.Equal(["[2001:4860:4860::8844]:443/tcp", "[2001:4860:4860::8888]:443/tcp"], lines.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Write_SameSeed_SameOrder_OtherSeed_SameSetOtherOrder()
    {
        var a = Lines(Plan("8.8.0.0/24", "22,80,443", seed: 5));
        var b = Lines(Plan("8.8.0.0/24", "22,80,443", seed: 5));
        var c = Lines(Plan("8.8.0.0/24", "22,80,443", seed: 6));
        Assert.Equal(a, b);
        Assert.Equal(a.ToHashSet(), c.ToHashSet());
        Assert.NotEqual(a, c);
        // A permuted order: far from the sorted one.
        Assert.NotEqual(a.Take(20), a.Order(StringComparer.Ordinal).Take(20));
    }

    [Fact]
    public void Write_Shards_PartitionTheUnshardedPlan()
    {
        var whole = Lines(Plan("8.8.0.0/25", "top100", seed: 11));
        var union = new List<string>();
        for (var k = 0; k < 5; k++)
        {
            union.AddRange(Lines(Plan("8.8.0.0/25", "top100", seed: 11, shard: new ShardSpec(k, 5))));
        }

        Assert.Equal(128 * 100, whole.Count);
        Assert.Equal(whole.Count, union.Count);
        Assert.Equal(whole.ToHashSet(), union.ToHashSet());
    }

    [Fact]
    public void Write_Shards_InterleaveTheSameOrder()
    {
        // Shard k takes global positions k, k+N, ...: the shards zipped back together are the unsharded order.
        var whole = Lines(Plan("8.8.4.0/26", "22,80", seed: 3));
        var shards = Enumerable.Range(0, 3).Select(k => Lines(Plan("8.8.4.0/26", "22,80", seed: 3, shard: new ShardSpec(k, 3)))).ToList();
        var merged = Enumerable.Range(0, whole.Count).Select(i => shards[i % 3][i / 3]).ToList();
        Assert.Equal(whole, merged);
    }

    [Fact]
    public void Write_Blocklist_RemovesExactlyTheSpecialPurposeLines()
    {
        // 192.0.2.0/24 is TEST-NET-1 (documentation): always refused. 192.0.3.0/24 next to it is ordinary.
        var plan = Plan("192.0.2.0/23", "80");
        var lines = Lines(plan);
        Assert.Equal(Enumerable.Range(0, 256).Select(i => $"192.0.3.{i}:80/tcp").ToHashSet(), lines.ToHashSet());
        var refusal = Assert.Single(plan.Policy.Refusals);
        Assert.Contains("192.0.2.0/24", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("RFC 5737", refusal.Message, StringComparison.Ordinal);
        Assert.Equal(256, (int)plan.Policy.RefusedAddresses);
    }

    [Fact]
    public void Write_PrivateTargets_OnlyWithAllowPrivate()
    {
        Assert.Throws<TargetsRefusedException>(() => Plan("10.1.2.0/30", "22"));
        Assert.Equal(4, Lines(Plan("10.1.2.0/30", "22", allowPrivate: true)).Count);
        // AllowPrivate does not unlock loopback, and the reverse.
        Assert.Throws<TargetsRefusedException>(() => Plan("127.0.0.1", "22", allowPrivate: true));
        Assert.Throws<TargetsRefusedException>(() => Plan("10.0.0.1", "22", allowLoopback: true));
        Assert.Single(Lines(Plan("127.0.0.1", "22", allowLoopback: true)));
    }

    [Fact]
    public void Create_EveryTargetRefused_ThrowsWithTheRuleAndSendsNothing()
    {
        var e = Assert.Throws<TargetsRefusedException>(() => Plan("224.0.0.0/24,198.18.0.1", "80"));
        Assert.Contains("multicast", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, e.Refusals.Count);
    }

    [Fact]
    public void Write_ExcludeFile_RemovesMoreWithCommentsAndBlankLines()
    {
        var exclude = Path.Combine(_dir, "exclude.txt");
        File.WriteAllText(exclude, """
            # our own networks
            8.8.8.0/30      # a block
               8.8.8.9
            8.8.8.12-8.8.8.13

            """);
        var lines = Lines(Plan("8.8.8.0/28", "22", exclude: exclude));
        var kept = new[] { 4, 5, 6, 7, 8, 10, 11, 14, 15 }.Select(i => $"8.8.8.{i}:22/tcp").ToHashSet();
        Assert.Equal(kept, lines.ToHashSet());
    }

    [Fact]
    public void Write_ExcludeFile_IsNeverUnlockedByFlags()
    {
        var exclude = Path.Combine(_dir, "exclude.txt");
        File.WriteAllText(exclude, "10.0.0.0/31\n");
        var plan = Plan("10.0.0.0/30", "22", allowPrivate: true, exclude: exclude);
        Assert.Equal(["10.0.0.2:22/tcp", "10.0.0.3:22/tcp"], Lines(plan).Order(StringComparer.Ordinal));
        Assert.Contains(plan.Policy.Refusals, r => r.Message.Contains($"{exclude}:1", StringComparison.Ordinal));
    }

    [Fact]
    public void Create_BadExcludeFile_ReportsEveryErrorWithPositions()
    {
        var exclude = Path.Combine(_dir, "bad.txt");
        File.WriteAllText(exclude, "8.8.8.0/33\nexample.com\n8.8.8.1 8.8.8.2\n");
        var e = Assert.Throws<CrawlOptionsException>(() => Plan("8.8.8.0/28", "nope", exclude: [exclude, Path.Combine(_dir, "missing.txt")]));
        Assert.Contains(e.Errors, x => x.Option == "Exclude" && x.Message.Contains($"{exclude}:1:1", StringComparison.Ordinal));
        Assert.Contains(e.Errors, x => x.Option == "Exclude" && x.Message.Contains($"{exclude}:2:1", StringComparison.Ordinal) && x.Message.Contains("host names", StringComparison.Ordinal));
        Assert.Contains(e.Errors, x => x.Option == "Exclude" && x.Message.Contains($"{exclude}:3:1", StringComparison.Ordinal));
        Assert.Contains(e.Errors, x => x.Option == "Exclude" && x.Message.Contains("not found", StringComparison.Ordinal));
        Assert.Contains(e.Errors, x => x.Option == "Ports");
    }

    [Fact]
    public void Create_ShardedWithoutSeed_IsAnError()
    {
        var e = Assert.Throws<CrawlOptionsException>(() => SweepPlan.Create(new SweepRequest { Targets = ["8.8.8.8"], Ports = "22", Shard = new ShardSpec(0, 2) }));
        Assert.Contains(e.Errors, x => x.Option == "Seed");
    }

    [Fact]
    public void Write_FromPosition_PrintsTheRestOfTheOrder()
    {
        var plan = Plan("8.8.8.0/27", "22,80", seed: 9);
        var all = Lines(plan);
        Assert.Equal(all.Skip(40), Lines(plan, from: 40));
    }

    [Fact]
    public void Hash_Golden_AndSensitiveToEveryInput()
    {
        var exclude = Path.Combine(_dir, "x.txt");
        File.WriteAllText(exclude, "8.8.8.1\n");
        var plan = Plan("8.8.8.0/30", "22,U:53", seed: 1);
        Assert.Equal("exposure-sweep-plan v1\nrange 4 8080800 8080803\ntcp 22\nudp 53\nseed 1\nshard 0/1\n",
            SweepPlan.CanonicalText(plan.Space, plan.Seed, plan.Shard));
        var hashes = new[]
        {
            plan.Hash,
            Plan("8.8.8.0/30", "22,U:53", seed: 2).Hash,
            Plan("8.8.8.0/30", "22,U:54", seed: 1).Hash,
            Plan("8.8.8.0/29", "22,U:53", seed: 1).Hash,
            Plan("8.8.8.0/30", "22,U:53", seed: 1, shard: new ShardSpec(1, 2)).Hash,
            Plan("8.8.8.0/30", "22,U:53", seed: 1, exclude: exclude).Hash,
        };
        Assert.Equal(hashes.Length, hashes.Distinct().Count());
        Assert.Equal(plan.Hash, Plan("8.8.8.0/30", "22,U:53", seed: 1).Hash);
    }
}
