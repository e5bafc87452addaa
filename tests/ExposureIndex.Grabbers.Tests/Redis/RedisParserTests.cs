using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Redis;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Redis;

public sealed class RedisParserTests
{
    private static RedisParser Create() => new();

    private static RedisResult ParseAllWays(string fixture)
        => ParserFeeding.AllWays(Create, ProtocolFixtures.Read("Redis", fixture), canonical: ProtocolFixtures.Canonical);

    [Theory]
    [InlineData("redis-7.0.15-info.bin")]
    [InlineData("redis-7.0.15-requirepass.bin")]
    [InlineData("synthetic-protected-mode.bin")]
    [InlineData("synthetic-old-not-permitted.bin")]
    [InlineData("synthetic-valkey.bin")]
    public void Feed_EveryPrefixOfAFixture_NeedsMore(string fixture)
    {
        var bytes = ProtocolFixtures.Read("Redis", fixture);
        Assert.Equal(bytes.Length, ParserFeeding.PrefixesBeforeCompletionNeedMore(Create, bytes));
    }

    [Fact]
    public void Feed_RedisInfo_SectionsAndFields()
    {
        var result = ParseAllWays("redis-7.0.15-info.bin");

        Assert.Null(result.Error);
        Assert.False(result.AuthRequired);
        Assert.Equal(["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"], result.Sections.Select(s => s.Name));
        Assert.Equal("7.0.15", result.Value("server", "redis_version"));
        Assert.Equal("standalone", result.Value("server", "redis_mode"));
        Assert.Equal("Linux 6.18.44-fc-v669 x86_64", result.Value("server", "os"));
        Assert.Equal("1", result.Value("clients", "connected_clients"));
        Assert.StartsWith("# Server\r\nredis_version:7.0.15\r\n", Encoding.Latin1.GetString(result.Banner), StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_RequirePass_AuthRequired()
    {
        var result = ParseAllWays("redis-7.0.15-requirepass.bin");

        Assert.True(result.AuthRequired);
        Assert.False(result.ProtectedMode);
        Assert.Equal("NOAUTH Authentication required.", result.Error);
        Assert.Empty(result.Sections);
    }

    [Fact]
    public void Feed_ProtectedMode_RecordedAsSuch()
    {
        var result = ParseAllWays("synthetic-protected-mode.bin");

        Assert.True(result.ProtectedMode);
        Assert.False(result.AuthRequired);
    }

    [Fact]
    public void Feed_OldRefusal_AuthRequired()
    {
        Assert.True(ParseAllWays("synthetic-old-not-permitted.bin").AuthRequired);
    }

    [Fact]
    public void TakeOutgoing_Info_InfoThenQuitNeverAuth()
    {
        var commands = ParserFeeding.Commands(Create(), ProtocolFixtures.Read("Redis", "redis-7.0.15-requirepass.bin"));

        Assert.Equal(["*1\r\n$4\r\nINFO\r\n", "*1\r\n$4\r\nQUIT\r\n"], commands);
    }

    [Fact]
    public void Feed_HugeBulkLength_InvalidBeforeBuffering()
    {
        var parser = Create();

        Assert.Equal(ParseStatus.Invalid, parser.Feed("$10485760000\r\n"u8));
        Assert.Contains("cap", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_HttpAnswer_Invalid()
    {
        var parser = Create();

        Assert.Equal(ParseStatus.Invalid, parser.Feed("HTTP/1.1 400 Bad Request\r\n"u8));
        Assert.StartsWith("not a RESP reply", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void End_InsideBulk_Invalid()
    {
        var parser = Create();
        parser.Feed("$100\r\n# Server\r\n"u8);

        Assert.Equal(ParseStatus.Invalid, parser.End());
        Assert.Contains("before the end of the INFO reply", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_RedisInfo_ProductVersionOsSectionAndTag()
    {
        var record = new ServiceRecord();

        RedisGrabber.Describe(record, ParseAllWays("redis-7.0.15-info.bin"));

        Assert.Equal("Redis", record.Product);
        Assert.Equal("7.0.15", record.Version);
        Assert.Equal("Linux 6.18.44-fc-v669 x86_64", record.Os);
        Assert.Equal("cpe:2.3:a:redis:redis:7.0.15:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.Equal(["database"], record.Tags);
        Assert.Equal("7.0.15", record.Redis.Server["redis_version"]);
        Assert.Equal("master", record.Redis.Replication["role"]);
        Assert.False(record.Redis.AuthRequired);
    }

    [Fact]
    public void Describe_RequirePass_RedisWithoutVersion()
    {
        var record = new ServiceRecord();

        RedisGrabber.Describe(record, ParseAllWays("redis-7.0.15-requirepass.bin"));

        Assert.True(record.Redis.AuthRequired);
        Assert.Equal("NOAUTH Authentication required.", record.Redis.Error);
        Assert.Equal("Redis", record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("cpe:2.3:a:redis:redis:*:*:*:*:*:*:*:*", record.Cpe23.Single());
    }

    [Fact]
    public void Describe_Valkey_ForkNamedByItsOwnVersionField()
    {
        var record = new ServiceRecord();

        RedisGrabber.Describe(record, ParseAllWays("synthetic-valkey.bin"));

        Assert.Equal("Valkey", record.Product);
        Assert.Equal("8.0.1", record.Version);
        Assert.Equal("db0", record.Redis.Keyspace.Keys.Single());
    }
}
