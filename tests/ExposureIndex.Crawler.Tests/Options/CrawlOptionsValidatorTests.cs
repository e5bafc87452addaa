using ExposureIndex.Crawler.Options;

namespace ExposureIndex.Crawler.Tests.Options;

public sealed class CrawlOptionsValidatorTests
{
    private static readonly CrawlOptions Valid = new() { Targets = ["8.8.8.8"], Ports = "22,80", OutputPath = "-" };

    [Fact]
    public void Validate_Defaults_WithTargetAndOutput_AreValid()
    {
        Assert.Empty(CrawlOptionsValidator.Validate(Valid));
        Assert.Empty(CrawlOptionsValidator.Validate(new CrawlOptions { Targets = ["8.8.8.8"], IndexerUrl = new Uri("http://127.0.0.1:7101") }));
    }

    [Fact]
    public void Validate_ManyProblems_ReportsEveryOneAtOnce()
    {
        var options = new CrawlOptions
        {
            Targets = [],
            Ports = "22,70000",
            Concurrency = 0,
            ConnectTimeout = TimeSpan.Zero,
            BannerWait = TimeSpan.FromSeconds(-1),
            ReadTimeout = TimeSpan.Zero,
            TargetDeadline = TimeSpan.FromHours(2),
            MaxBannerBytes = 0,
            HttpPorts = "U:80",
            UserAgent = "bad\r\nInjected: header",
            ContactUrl = new Uri("ftp://example.org/"),
            BatchSize = 0,
            MaxInFlightBatches = 0,
            ScanId = "",
        };

        var errors = CrawlOptionsValidator.Validate(options);
        var byOption = errors.Select(e => e.Option).ToList();
        string[] expected =
        [
            "Targets", "Ports", "HttpPorts", "Concurrency", "MaxBannerBytes", "BatchSize", "MaxInFlightBatches", "ConnectTimeout",
            "BannerWait", "ReadTimeout", "TargetDeadline", "UserAgent", "ContactUrl", "OutputPath/IndexerUrl", "ScanId",
        ];
        Assert.Equal(expected, byOption);
        Assert.Contains(errors, e => e.ToString() == "Ports: ports, column 4: '70000': port is out of range (ports are 1-65535)");
        Assert.Contains(errors, e => e.ToString() == "Concurrency: must be 1-65536, got 0");
        Assert.Contains(errors, e => e.ToString() == "TargetDeadline: must be at most 3600 s, got 7200 s");

        var exception = new CrawlOptionsException(errors);
        Assert.StartsWith($"invalid crawl options ({errors.Count} errors):", exception.Message, StringComparison.Ordinal);
        Assert.Equal(errors.Count + 1, exception.Message.Split(Environment.NewLine).Length);
    }

    [Fact]
    public void Validate_BothOutputs_IsAnError()
    {
        var error = Assert.Single(CrawlOptionsValidator.Validate(Valid with { IndexerUrl = new Uri("http://127.0.0.1:7101") }));
        Assert.Equal("OutputPath/IndexerUrl", error.Option);
        Assert.Contains("not both", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NeitherOutput_IsAnError()
    {
        var error = Assert.Single(CrawlOptionsValidator.Validate(Valid with { OutputPath = null }));
        Assert.Contains("exactly one", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DeadlineShorterThanConnectTimeout_IsAnError()
    {
        var error = Assert.Single(CrawlOptionsValidator.Validate(Valid with { ConnectTimeout = TimeSpan.FromSeconds(5), TargetDeadline = TimeSpan.FromSeconds(2) }));
        Assert.Equal("TargetDeadline: must be at least ConnectTimeout (5 s), got 2 s", error.ToString());
    }

    [Fact]
    public void Validate_BadTargets_ReportsEachWithPosition()
    {
        var errors = CrawlOptionsValidator.Validate(Valid with { Targets = ["8.8.8.8 1.2.3.999", "host.example"] });
        Assert.Equal(
            ["Targets: argument 1, column 9: '1.2.3.999': octet 4 (999) is greater than 255",
             "Targets: argument 2, column 1: 'host.example': host names are not resolved; give an IP address"],
            errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Validate_TargetFileWithOnlyComments_HasNoTargets()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "# nothing here\n\n");
            var error = Assert.Single(CrawlOptionsValidator.Validate(Valid with { Targets = ["@" + path] }));
            Assert.Contains("hold none", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Validate_IndexerUrlNotHttp_IsAnError()
    {
        var error = Assert.Single(CrawlOptionsValidator.Validate(Valid with { OutputPath = null, IndexerUrl = new Uri("ftp://127.0.0.1/") }));
        Assert.Equal("IndexerUrl", error.Option);
    }

    [Fact]
    public void Validate_WholeIPv4SpaceAllPorts_FitsTheIndex()
    {
        Assert.Empty(CrawlOptionsValidator.Validate(Valid with { Targets = ["0.0.0.0/0"], Ports = "-" }));
    }

    [Fact]
    public void Validate_SweepOptions_ReportsEveryProblemAtOnce()
    {
        var errors = CrawlOptionsValidator.Validate(Valid with
        {
            Shard = "4/4",
            Rate = 0,
            MaxPerNetwork = -1,
            ExcludeFiles = ["/nonexistent/exclude.txt"],
            Resume = true,
            CheckpointInterval = TimeSpan.Zero,
            SpoolDirectory = "/tmp/spool",
            StatsPath = " ",
        });

        Assert.Equal(["Shard", "Rate", "MaxPerNetwork", "ExcludeFiles", "Resume", "CheckpointInterval", "SpoolDirectory", "StatsPath"], errors.Select(e => e.Option));
        Assert.Contains(errors, e => e.ToString() == "Shard: shard index 4 must be below the shard count 4 (shards are 0-based)");
        Assert.Contains(errors, e => e.Option == "Resume" && e.Message.Contains("--checkpoint", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ShardedWithoutSeed_NeedsOne()
    {
        var error = Assert.Single(CrawlOptionsValidator.Validate(Valid with { Shard = "1/3" }));
        Assert.Equal("Seed", error.Option);
        Assert.Empty(CrawlOptionsValidator.Validate(Valid with { Shard = "1/3", Seed = 42 }));
        // Resuming takes the seed from the checkpoint.
        Assert.Empty(CrawlOptionsValidator.Validate(Valid with { Shard = "1/3", Resume = true, CheckpointPath = "/tmp/cp.json" }));
    }

    [Fact]
    public void Validate_NamedPortSetsAndUnlimitedRate_AreValid()
    {
        Assert.Empty(CrawlOptionsValidator.Validate(Valid with { Ports = "top100,U:53", Rate = null, MaxPerNetwork = 0 }));
        Assert.Empty(CrawlOptionsValidator.Validate(Valid with { Ports = "top1000", Rate = 150_000 }));
    }
}
