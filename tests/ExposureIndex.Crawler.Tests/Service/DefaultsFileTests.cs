using System.Collections;
using System.Text.RegularExpressions;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Service;
using ExposureIndex.Crawler.Targeting;
using ExposureIndex.TestCommon;
using Microsoft.Extensions.Configuration;

namespace ExposureIndex.Crawler.Tests.Service;

/// <summary>
/// GUIDE §3.10: the commented defaults file in deploy/ binds to <see cref="CrawlerServiceOptions"/>, names every
/// setting, and says exactly what the code's defaults are; the Kubernetes ConfigMap's file binds and validates too.
/// </summary>
public sealed partial class DefaultsFileTests
{
    private static string DefaultsFile => Path.Combine(RepoPaths.Root, "deploy", "crawler.defaults.json");

    private static CrawlerServiceOptions Bind(string file, List<OptionError> errors, params (string Key, string Value)[] overrides)
    {
        var configuration = CrawlerServiceHost.Build([file], [.. overrides.Select(o => $"{o.Key}={o.Value}")], errors);
        Assert.NotNull(configuration);
        return CrawlerServiceOptions.Read(configuration.GetSection(CrawlerServiceOptions.SectionName), errors, hostName: "crawler-0");
    }

    [Fact]
    public void DefaultsFile_Binds_AndEveryValueIsTheCodeDefault()
    {
        var errors = new List<OptionError>();
        var bound = Bind(DefaultsFile, errors);
        Assert.Empty(errors);

        var defaults = new CrawlerServiceOptions { HostName = "crawler-0" };
        foreach (var property in typeof(CrawlerServiceOptions).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            var expected = property.GetValue(defaults);
            var actual = property.GetValue(bound);
            if (expected is IEnumerable list and not string)
            {
                Assert.Equal(list.Cast<object>(), ((IEnumerable)actual!).Cast<object>());
            }
            else
            {
                Assert.True(Equals(expected, actual), $"{property.Name}: the file says {actual ?? "null"}, the code's default is {expected ?? "null"}");
            }
        }
    }

    [Fact]
    public void DefaultsFile_NamesEverySetting()
    {
        var text = File.ReadAllText(DefaultsFile);
        var keys = KeyPattern().Matches(text).Select(m => m.Groups[1].Value).Where(k => k != "Crawler").ToHashSet(StringComparer.Ordinal);
        Assert.Equal(CrawlerServiceOptions.KnownKeys.Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void DefaultsFile_WithTargetsAndIndexer_Validates()
    {
        var errors = new List<OptionError>();
        var options = Bind(DefaultsFile, errors, ("Targets:0", "198.18.0.0/15"), ("IndexerUrl", "http://index:8781"));
        Assert.Empty(errors);
        Assert.Empty(CrawlerServiceOptionsValidator.Validate(options, out var shard));
        Assert.Equal(ShardSpec.Single, shard);
    }

    [Fact]
    public void KubernetesConfigMap_Binds_AndTakesTheShardFromThePodOrdinal()
    {
        var yaml = File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "k8s", "crawler.yaml"));
        var json = ConfigMapJson().Match(yaml);
        Assert.True(json.Success, "crawler.yaml has no crawler.json in its ConfigMap");
        var file = Path.Combine(Path.GetTempPath(), $"crawler-configmap-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, string.Join('\n', json.Groups[1].Value.Split('\n').Select(l => l.Length >= 4 ? l[4..] : l.Trim())));
        try
        {
            var errors = new List<OptionError>();
            // What the StatefulSet adds: Crawler__Shards from the environment; the pod name in HOSTNAME.
            var configuration = CrawlerServiceHost.Build([file], ["Shards=4"], errors);
            var options = CrawlerServiceOptions.Read(configuration!.GetSection("Crawler"), errors, hostName: "crawler-2");
            Assert.Empty(errors);
            Assert.Equal(20260601UL, options.Seed);
            Assert.Equal(new Uri("http://index:8781"), options.IndexerUrl);
            Assert.Equal("0 2 * * *", options.Schedule);
            // The target and exclude files live in the ConfigMap's mount, not here: only those errors are expected.
            var validation = CrawlerServiceOptionsValidator.Validate(options, out var shard);
            Assert.All(validation, e => Assert.Contains("/etc/exposure-crawler/", e.Message, StringComparison.Ordinal));
            Assert.Equal(new ShardSpec(2, 4), shard);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Read_UnknownKey_IsAnErrorNamingIt()
    {
        var errors = new List<OptionError>();
        Bind(DefaultsFile, errors, ("Rat", "5000"), ("Targets:0", "198.18.0.0/15"));
        var error = Assert.Single(errors);
        Assert.Equal("Rat", error.Option);
        Assert.Contains("is not a crawler setting", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_LaterLayersWin_AndBadOverridesAreReported()
    {
        var errors = new List<OptionError>();
        var options = Bind(DefaultsFile, errors, ("Rate", "2500"), ("Crawler:Concurrency", "64"), ("ConnectTimeout", "750ms"));
        Assert.Empty(errors);
        Assert.Equal((2500.0, 64, TimeSpan.FromMilliseconds(750)), (options.Rate, options.Concurrency, options.ConnectTimeout));

        var bad = new List<OptionError>();
        Assert.Null(CrawlerServiceHost.Build(["/nonexistent/crawler.json"], ["no-equals-sign"], bad));
        Assert.Equal(["--config", "--set"], bad.Select(e => e.Option));
    }

    [Fact]
    public void ToCrawlOptions_CarriesTheAssignmentAndTheShardsCheckpoint()
    {
        var errors = new List<OptionError>();
        var options = Bind(DefaultsFile, errors, ("Targets:0", "198.18.0.0/15"), ("IndexerUrl", "http://index:8781"), ("Seed", "7"), ("Shards", "3"), ("StateDirectory", "/data/state"));
        Assert.Empty(CrawlerServiceOptionsValidator.Validate(options, out var shard));
        var crawl = options.ToCrawlOptions(shard, resume: true);

        Assert.Equal("0/3", crawl.Shard);
        Assert.Equal(7UL, crawl.Seed);
        Assert.Equal("/data/state/sweep-0-of-3.checkpoint.json", crawl.CheckpointPath);
        Assert.True(crawl.Resume);
        Assert.Equal(options.Rate, crawl.Rate);
        Assert.Equal("exposure-crawler/crawler-0", crawl.Scanner);
        Assert.Empty(CrawlOptionsValidator.Validate(crawl));
    }

    [GeneratedRegex("^\\s*\"([A-Za-z]+)\"\\s*:", RegexOptions.Multiline)]
    private static partial Regex KeyPattern();

    [GeneratedRegex("crawler\\.json: \\|\\n((?:    .*\\n|\\s*\\n)+)")]
    private static partial Regex ConfigMapJson();
}
