using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Memcached;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Memcached;

public sealed class MemcachedParserTests
{
    private static MemcachedParser Create() => new();

    private static MemcachedResult ParseAllWays(string fixture)
        => ParserFeeding.AllWays(Create, ProtocolFixtures.Read("Memcached", fixture), canonical: ProtocolFixtures.Canonical);

    [Theory]
    [InlineData("memcached-1.6.18.bin")]
    [InlineData("synthetic-sasl-refusal.bin")]
    public void Feed_EveryPrefixOfAFixture_NeedsMore(string fixture)
    {
        ParserFeeding.PrefixesBeforeCompletionNeedMore(Create, ProtocolFixtures.Read("Memcached", fixture));
    }

    [Fact]
    public void Feed_Memcached_StatsAndVersion()
    {
        var result = ParseAllWays("memcached-1.6.18.bin");

        Assert.Equal("1.6.18", result.VersionReply);
        Assert.Equal("1.6.18", result.Stat("version"));
        Assert.Equal("2.1.12-stable", result.Stat("libevent"));
        Assert.Equal("0", result.Stat("curr_items"));
        Assert.True(result.Stats.Count > 50);
        Assert.Null(result.StatsError);
    }

    [Fact]
    public void TakeOutgoing_Memcached_StatsVersionQuit()
    {
        Assert.Equal(["stats\r\n", "version\r\n", "quit\r\n"], ParserFeeding.Commands(Create(), ProtocolFixtures.Read("Memcached", "memcached-1.6.18.bin")));
    }

    [Fact]
    public void Feed_SaslRefusal_ErrorRecordedNoVersion()
    {
        var result = ParseAllWays("synthetic-sasl-refusal.bin");

        Assert.Equal("CLIENT_ERROR unauthenticated", result.StatsError);
        Assert.Null(result.Version);
        Assert.Empty(result.Stats);
    }

    [Fact]
    public void Feed_EndlessStats_InvalidAtTheCap()
    {
        var parser = Create();
        var status = ParserFeeding.FeedEndlessly(parser, [], "STAT x 1\r\n"u8.ToArray());

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains("1024 lines", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_RedisError_Invalid()
    {
        var parser = Create();

        Assert.Equal(ParseStatus.Invalid, parser.Feed("-ERR unknown command 'stats'\r\n"u8));
        Assert.Null(parser.Result);
    }

    [Fact]
    public void Describe_Memcached_ProductVersionStatsAndTag()
    {
        var record = new ServiceRecord();

        MemcachedGrabber.Describe(record, ParseAllWays("memcached-1.6.18.bin"));

        Assert.Equal("Memcached", record.Product);
        Assert.Equal("1.6.18", record.Version);
        Assert.Equal("cpe:2.3:a:memcached:memcached:1.6.18:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.Equal(["database"], record.Tags);
        Assert.Equal("1.6.18", record.Memcached.Version);
        Assert.True(record.Memcached.Pid > 0);
        Assert.Equal("1024", record.Memcached.Stats["max_connections"]);
        Assert.Equal(16UL * 1024 * 1024, record.Memcached.LimitMaxbytes);
        Assert.Equal(4U, record.Memcached.Threads);
    }

    [Fact]
    public void Describe_SaslRefusal_NoProduct()
    {
        var record = new ServiceRecord();

        MemcachedGrabber.Describe(record, ParseAllWays("synthetic-sasl-refusal.bin"));

        Assert.Equal(string.Empty, record.Product);
        Assert.Empty(record.Tags);
        Assert.Equal("CLIENT_ERROR unauthenticated", record.Memcached.Error);
    }
}
