using ExposureIndex.TestCommon;

namespace ExposureIndex.IntegrationTests.Sweep;

/// <summary>
/// `exposure crawl --dry-run`, the main test surface of targeting (issue 4 §2): the plan on stdout, one
/// ip:port/transport per line in visiting order; refusals on stderr; nothing sent. Addresses are loopback or
/// refused ranges, and a dry run opens no socket anyway.
/// </summary>
public sealed class DryRunTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private readonly string _dir = Directory.CreateTempSubdirectory("exposure-dryrun-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<string[]> PlanAsync(params string[] args)
    {
        var (exit, stdout, stderr) = await CliProcess.RunAsync(["crawl", "--dry-run", "--allow-loopback", .. args], Timeout);
        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task DryRun_ShardsOfOneSeed_AreDisjointAndTogetherExactlyThePlan()
    {
        string[] space = ["--targets", "127.250.0.0/22", "--ports", "1-40,U:53,161"];
        var whole = await PlanAsync([.. space, "--seed", "77"]);
        Assert.Equal(1024 * 42, whole.Length);
        Assert.Equal(whole.Length, whole.Distinct().Count());
        Assert.Contains("127.250.3.255:40/tcp", whole);
        Assert.Contains("127.250.0.0:161/udp", whole);

        var shards = new List<string[]>();
        for (var k = 0; k < 5; k++)
        {
            shards.Add(await PlanAsync([.. space, "--seed", "77", "--shard", $"{k}/5"]));
        }

        var union = shards.SelectMany(s => s).ToList();
        Assert.Equal(whole.Length, union.Count);
        Assert.Equal(whole.Order(StringComparer.Ordinal), union.Order(StringComparer.Ordinal));
        Assert.All(shards, s => Assert.InRange(s.Length, whole.Length / 5, (whole.Length / 5) + 1));
        // zmap-style interleaving: shard K takes global positions K, K+N, ...: the whole plan, dealt out in turn.
        for (var k = 0; k < 5; k++)
        {
            Assert.Equal(whole.Where((_, i) => i % 5 == k), shards[k]);
        }
    }

    [Fact]
    public async Task DryRun_SameSeed_SameOrder_OtherSeed_OtherOrder()
    {
        string[] space = ["--targets", "127.250.8.0/24", "--ports", "top100"];
        var first = await PlanAsync([.. space, "--seed", "5"]);
        var again = await PlanAsync([.. space, "--seed", "5"]);
        var other = await PlanAsync([.. space, "--seed", "6"]);
        Assert.Equal(256 * 100, first.Length);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(first.Order(StringComparer.Ordinal), other.Order(StringComparer.Ordinal));
        // Random-looking: the first 100 targets are spread over many hosts, not one host's ports in a row.
        Assert.True(first.Take(100).Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)]).Distinct().Count() > 50);
    }

    [Fact]
    public async Task DryRun_NamedPortSets_HoldTheirSize()
    {
        Assert.Equal(1000, (await PlanAsync("--targets", "127.250.9.1", "--ports", "top1000", "--seed", "1")).Length);
        Assert.Equal(101, (await PlanAsync("--targets", "127.250.9.1", "--ports", "top100,U:53", "--seed", "1")).Length);
    }

    [Fact]
    public async Task DryRun_PolicyAndExcludeFile_RemoveTargetsAndSayWhyOnStderr()
    {
        var exclude = Path.Combine(_dir, "optout.txt");
        await File.WriteAllTextAsync(exclude, "# opt-out requests\n127.250.10.2\n127.250.10.8-127.250.10.9 # a range\n", TestContext.Current.CancellationToken);
        var (exit, stdout, stderr) = await CliProcess.RunAsync(
            ["crawl", "--dry-run", "--allow-loopback", "--targets", "127.250.10.0/28,10.1.2.0/30,192.0.2.1", "--ports", "22", "--seed", "3", "--exclude", exclude], Timeout);

        Assert.Equal(0, exit);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(16 - 3, lines.Length);
        Assert.DoesNotContain("127.250.10.2:22/tcp", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("10.", StringComparison.Ordinal) || l.StartsWith("192.0.2.", StringComparison.Ordinal));
        Assert.Contains("refusing 10.1.2.0/30: private-use (RFC 1918) - pass --allow-private to scan it", stderr, StringComparison.Ordinal);
        Assert.Contains("refusing 192.0.2.1: documentation", stderr, StringComparison.Ordinal);
        Assert.Contains($"excluded by the operator ({exclude}:2)", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DryRun_EveryTargetRefused_ExitsNonZeroWithOneLineAndNoPlan()
    {
        var (exit, stdout, stderr) = await CliProcess.RunAsync(["crawl", "--dry-run", "--targets", "127.250.11.0/24", "--ports", "80"], Timeout);
        Assert.Equal(2, exit);
        Assert.Empty(stdout.Trim());
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("exposure: refusing 127.250.11.0/24: loopback (RFC 1122) - pass --allow-loopback to scan it", line);
    }

    [Fact]
    public async Task DryRun_ShardedWithoutSeed_IsRefusedWithEveryError()
    {
        var (exit, _, stderr) = await CliProcess.RunAsync(["crawl", "--dry-run", "--targets", "127.250.12.0/24", "--allow-loopback", "--shard", "2/2", "--rate", "0"], Timeout);
        Assert.Equal(2, exit);
        Assert.Contains("Shard: shard index 2 must be below the shard count 2", stderr, StringComparison.Ordinal);
        Assert.Contains("Rate: must be above 0", stderr, StringComparison.Ordinal);
    }
}
