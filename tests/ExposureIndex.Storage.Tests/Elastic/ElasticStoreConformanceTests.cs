using ExposureIndex.Storage.Elastic;
using ExposureIndex.Storage.Tests.Conformance;

namespace ExposureIndex.Storage.Tests.Elastic;

/// <summary>
/// The shared conformance suite against a real Elasticsearch cluster, when EXPOSUREINDEX_ELASTIC_URL names one
/// (e.g. http://127.0.0.1:9200). Each test works in its own index prefix and deletes it afterwards. Without the
/// variable every test skips: CI has no Elasticsearch by design, so this is a plain skip, not Requires.SkipOrFail.
/// </summary>
public sealed class ElasticStoreConformanceTests : StoreConformanceTests
{
    public const string SkipReason = "set EXPOSUREINDEX_ELASTIC_URL to run the Elasticsearch conformance suite (no Elasticsearch here)";

    private readonly ElasticStoreOptions _options = new()
    {
        IndexPrefix = "exposure-conformance-" + Guid.NewGuid().ToString("N")[..12],
        NumberOfReplicas = 0,
    };

    private static Uri? ClusterUrl => Environment.GetEnvironmentVariable("EXPOSUREINDEX_ELASTIC_URL") is { Length: > 0 } url ? new Uri(url) : null;

    protected override async Task<IExposureStore> CreateStoreAsync()
    {
        var url = ClusterUrl;
        if (url is null)
        {
            Assert.Skip(SkipReason);
        }

        return await ElasticStore.OpenAsync(url!, _options, TestContext.Current.CancellationToken);
    }

    protected override async Task CleanupAsync()
    {
        if (ClusterUrl is not { } url)
        {
            return;
        }

        await using var store = await ElasticStore.OpenAsync(url, _options, CancellationToken.None);
        await store.DeleteEverythingAsync(CancellationToken.None);
    }
}
