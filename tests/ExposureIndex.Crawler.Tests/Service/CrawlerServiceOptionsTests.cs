using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Service;
using ExposureIndex.Crawler.Targeting;
using Microsoft.Extensions.Configuration;

namespace ExposureIndex.Crawler.Tests.Service;

public sealed class CrawlerServiceOptionsTests
{
    private static IConfiguration Section(Dictionary<string, string?> values)
        => new ConfigurationBuilder().AddInMemoryCollection(values.ToDictionary(kv => $"Crawler:{kv.Key}", kv => kv.Value)).Build().GetSection("Crawler");

    private static Dictionary<string, string?> Valid() => new()
    {
        ["Targets:0"] = "8.8.8.0/24",
        ["Targets:1"] = "1.1.1.1",
        ["Ports"] = "top100,U:53",
        ["Seed"] = "12345",
        ["Shards"] = "4",
        ["Rate"] = "2500.5",
        ["Concurrency"] = "256",
        ["MaxPerNetwork"] = "8",
        ["Schedule"] = "0 */6 * * *",
        ["IndexerUrl"] = "http://indexer:7101",
        ["SpoolDirectory"] = "/data/spool",
        ["StateDirectory"] = "/data/state",
        ["CheckpointInterval"] = "30s",
        ["Syn"] = "true",
    };

    [Fact]
    public void Read_EveryKey_IsBound()
    {
        var errors = new List<OptionError>();
        var options = CrawlerServiceOptions.Read(Section(Valid()), errors, hostName: "crawler-3.crawler.scan.svc.cluster.local");
        Assert.Empty(errors);
        Assert.Equal(["8.8.8.0/24", "1.1.1.1"], options.Targets);
        Assert.Equal(("top100,U:53", 12345UL, 4, 2500.5, 256, 8), (options.Ports, options.Seed!.Value, options.Shards, options.Rate, options.Concurrency, options.MaxPerNetwork));
        Assert.Equal(new Uri("http://indexer:7101"), options.IndexerUrl);
        Assert.Equal(TimeSpan.FromSeconds(30), options.CheckpointInterval);
        Assert.True(options.Syn);
        Assert.Null(options.Shard);

        Assert.Empty(CrawlerServiceOptionsValidator.Validate(options, out var shard));
        Assert.Equal(new ShardSpec(3, 4), shard);
    }

    [Fact]
    public void Read_CommaSeparatedList_IsSplit()
    {
        var values = Valid();
        values.Remove("Targets:0");
        values.Remove("Targets:1");
        values["Targets"] = "8.8.8.0/24, 1.1.1.1";
        var options = CrawlerServiceOptions.Read(Section(values), [], hostName: "crawler-0");
        Assert.Equal(["8.8.8.0/24", "1.1.1.1"], options.Targets);
    }

    [Fact]
    public void Read_UnparsableValues_AreEachReportedByKey()
    {
        var values = Valid();
        values["Seed"] = "-1";
        values["Rate"] = "fast";
        values["Syn"] = "maybe";
        values["IndexerUrl"] = "not a url";
        values["CheckpointInterval"] = "often";
        var errors = new List<OptionError>();
        CrawlerServiceOptions.Read(Section(values), errors, hostName: "crawler-0");
        Assert.Equal(["CheckpointInterval", "IndexerUrl", "Rate", "Seed", "Syn"], errors.Select(e => e.Option).Order());
    }

    [Theory]
    [InlineData("5", "'5' has no unit: write e.g. 5s, 5ms or 5m")]
    [InlineData("2.5", "'2.5' has no unit")]
    [InlineData(" 30 ", "'30' has no unit")]
    [InlineData("Infinity", "is not a duration")]
    [InlineData("1e3", "is not a duration")]
    public void Read_DurationWithoutUnit_IsRefusedNotReadAsDays(string text, string expected)
    {
        // TimeSpan's own syntax would read a bare "5" as five days.
        var values = Valid();
        values["ConnectTimeout"] = text;
        var errors = new List<OptionError>();
        var options = CrawlerServiceOptions.Read(Section(values), errors, hostName: "crawler-0");
        var error = Assert.Single(errors);
        Assert.Equal("ConnectTimeout", error.Option);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("750ms", 750)]
    [InlineData("5s", 5_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("00:00:05", 5_000)]
    public void Read_DurationWithUnitOrClockSyntax_IsBound(string text, int milliseconds)
    {
        var values = Valid();
        values["ConnectTimeout"] = text;
        var errors = new List<OptionError>();
        var options = CrawlerServiceOptions.Read(Section(values), errors, hostName: "crawler-0");
        Assert.Empty(errors);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), options.ConnectTimeout);
    }

    [Fact]
    public void Validate_ManyProblems_ReportsEveryOneAtOnce()
    {
        var options = new CrawlerServiceOptions
        {
            Targets = ["8.8.8.0/33", "example.com"],
            Ports = "0",
            Exclude = ["/nonexistent/exclude.txt"],
            Shards = 3,
            HostName = "crawler-7",
            Rate = -5,
            Concurrency = 0,
            MaxPerNetwork = 0,
            Schedule = "sometimes",
            MetricsPort = 70000,
            CheckpointInterval = TimeSpan.Zero,
            UserAgent = "",
        };
        var errors = CrawlerServiceOptionsValidator.Validate(options, out _);
        var keys = errors.Select(e => e.Option).ToHashSet();
        foreach (var key in new[] { "Targets", "Ports", "Exclude", "Shard", "Seed", "Rate", "Concurrency", "MaxPerNetwork", "Schedule", "MetricsPort", "CheckpointInterval", "IndexerUrl/Output", "UserAgent" })
        {
            Assert.Contains(key, keys);
        }

        Assert.Contains(errors, e => e.Option == "Targets" && e.Message.Contains("host names", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Option == "Shard" && e.Message.Contains("ordinal 7", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ExplicitShard_WinsOverHostName()
    {
        var options = new CrawlerServiceOptions { Targets = ["8.8.8.8"], Shards = 4, Shard = 2, Seed = 1, HostName = "not-a-statefulset", Output = "/tmp/x.json" };
        Assert.Empty(CrawlerServiceOptionsValidator.Validate(options, out var shard));
        Assert.Equal(new ShardSpec(2, 4), shard);
    }

    [Theory]
    [InlineData("crawler-0", 3, 0)]
    [InlineData("crawler-2", 3, 2)]
    [InlineData("exposure-crawler-12.svc.local", 16, 12)]
    [InlineData("a-b-c-1", 2, 1)]
    public void TryFromHostName_StatefulSetNames_GiveTheOrdinal(string host, int shards, int expected)
    {
        Assert.True(ShardAssignment.TryFromHostName(host, shards, out var shard, out var error), error);
        Assert.Equal(new ShardSpec(expected, shards), shard);
    }

    [Theory]
    [InlineData("crawler", "does not end in a StatefulSet ordinal")]
    [InlineData("crawler-", "does not end in a StatefulSet ordinal")]
    [InlineData("crawler-01", "does not end in a StatefulSet ordinal")]
    [InlineData("crawler-abc", "does not end in a StatefulSet ordinal")]
    [InlineData("crawler-3", "not below the shard count 3")]
    [InlineData("", "host name is empty")]
    public void TryFromHostName_Unusable_SaysWhy(string host, string expected)
    {
        Assert.False(ShardAssignment.TryFromHostName(host, 3, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void ToSweepRequest_PlansTheAssignedShard()
    {
        var errors = new List<OptionError>();
        var options = CrawlerServiceOptions.Read(Section(Valid()), errors, hostName: "crawler-1");
        Assert.Empty(CrawlerServiceOptionsValidator.Validate(options, out var shard));
        var plan = SweepPlan.Create(options.ToSweepRequest(shard));
        Assert.Equal(new ShardSpec(1, 4), plan.Shard);
        Assert.Equal(12345UL, plan.Seed);
        Assert.Equal(257UL * 101, plan.Space.Count);
    }
}
