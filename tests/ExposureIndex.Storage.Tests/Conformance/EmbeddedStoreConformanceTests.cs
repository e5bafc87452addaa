using ExposureIndex.Storage.Embedded;

namespace ExposureIndex.Storage.Tests.Conformance;

public sealed class EmbeddedStoreConformanceTests : StoreConformanceTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exposure-conformance-" + Guid.NewGuid().ToString("N"));

    protected override Task<IExposureStore> CreateStoreAsync() => Task.FromResult<IExposureStore>(EmbeddedStore.Open(_directory));

    protected override Task CleanupAsync()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        return Task.CompletedTask;
    }
}
