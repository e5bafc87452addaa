using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Tests.Targeting;

public sealed class SweepOrderTests
{
    private static TargetSpace Space(string targets, string ports)
    {
        var errors = new List<SpecError>();
        var entries = TargetParser.Parse([targets], errors);
        var spec = PortSpecParser.Parse(ports, "ports", errors);
        Assert.Empty(errors);
        return new TargetSpace(TargetSet.From(entries.Select(e => e.Range)), spec!);
    }

    [Theory]
    [InlineData("10.0.0.0/24", "22,80,443", 1)]
    [InlineData("10.0.0.0/24", "22,80,443", 2)]
    [InlineData("10.0.0.0/24", "22,80,443", 7)]
    [InlineData("10.0.0.0/28,10.9.0.1", "1-100,U:53", 3)]
    [InlineData("10.0.0.1", "22", 4)]
    [InlineData("10.0.0.0/22", "top100", 16)]
    public void Shards_SameSeed_AreDisjointAndCoverTheSpace(string targets, string ports, int shards)
    {
        var space = Space(targets, ports);
        var seen = new HashSet<ulong>();
        ulong total = 0;
        for (var k = 0; k < shards; k++)
        {
            var order = new SweepOrder(space, seed: 99, new ShardSpec(k, shards));
            total += order.Count;
            for (ulong local = 0; local < order.Count; local++)
            {
                Assert.True(seen.Add(order.IndexAt(local)), $"shard {k}/{shards} repeats index {order.IndexAt(local)}");
            }
        }

        Assert.Equal(space.Count, total);
        Assert.Equal(space.Count, (ulong)seen.Count);
    }

    [Fact]
    public void Shards_Counts_DifferByAtMostOne()
    {
        var space = Space("10.0.0.0/24", "1-10");
        var counts = Enumerable.Range(0, 7).Select(k => new SweepOrder(space, 1, new ShardSpec(k, 7)).Count).ToList();
        Assert.True(counts.Max() - counts.Min() <= 1);
        Assert.Equal(space.Count, counts.Aggregate(0UL, (a, b) => a + b));
    }

    [Fact]
    public void Shards_MoreShardsThanTargets_ExtraShardsAreEmpty()
    {
        var space = Space("10.0.0.1", "22,80");
        Assert.Equal(1UL, new SweepOrder(space, 1, new ShardSpec(1, 3)).Count);
        Assert.Equal(0UL, new SweepOrder(space, 1, new ShardSpec(2, 3)).Count);
    }

    [Fact]
    public void Indexer_TcpThenUdpSlots_MapsEveryTriple()
    {
        var space = Space("10.0.0.0/31", "22,80,U:53");
        var all = Enumerable.Range(0, (int)space.Count).Select(i => space[(ulong)i].ToString()).ToList();
        Assert.Equal(
            ["10.0.0.0:22/tcp", "10.0.0.1:22/tcp", "10.0.0.0:80/tcp", "10.0.0.1:80/tcp", "10.0.0.0:53/udp", "10.0.0.1:53/udp"],
            all);
        Assert.Equal(Transport.Udp, space[5].Transport);
    }

    [Theory]
    [InlineData("0/1", 0, 1)]
    [InlineData("3/4", 3, 4)]
    [InlineData("0/65536", 0, 65536)]
    public void ShardSpecTryParse_Valid_Parses(string text, int index, int count)
    {
        Assert.True(ShardSpec.TryParse(text, out var shard, out var error), error);
        Assert.Equal(new ShardSpec(index, count), shard);
        Assert.Equal(text, shard.ToString());
    }

    [Theory]
    [InlineData("4/4", "below the shard count")]
    [InlineData("1/0", "must be 1-")]
    [InlineData("0/65537", "must be 1-")]
    [InlineData("1", "not K/N")]
    [InlineData("-1/4", "decimal")]
    [InlineData("a/b", "decimal")]
    [InlineData("1/", "not K/N")]
    [InlineData(null, "not K/N")]
    public void ShardSpecTryParse_Invalid_SaysWhy(string? text, string expected)
    {
        Assert.False(ShardSpec.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
