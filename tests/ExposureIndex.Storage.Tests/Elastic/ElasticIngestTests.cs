using System.Text.Json.Nodes;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Query;
using ExposureIndex.Storage.Elastic;
using ExposureIndex.Storage.Embedded;
using ExposureIndex.Storage.Tests.Conformance;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Storage.Tests.Elastic;

/// <summary>
/// The Elasticsearch store's write path against an in-process fake of the document APIs (no network): what it
/// decides for each record (checked against the embedded store, record for record), what it writes, and how it
/// behaves when Elasticsearch rejects part of a batch.
/// </summary>
public sealed class ElasticIngestTests : IAsyncLifetime
{
    private const string Prefix = "exposure-test";
    private static readonly ElasticStoreOptions Options = new() { IndexPrefix = Prefix, RetryBaseDelay = TimeSpan.FromMilliseconds(1), MaxAttempts = 2 };

    private readonly string _embeddedDirectory = Path.Combine(Path.GetTempPath(), "exposure-elastic-diff-" + Guid.NewGuid().ToString("N"));
    private readonly FakeElasticsearch _fake = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _fake.Dispose();
        if (Directory.Exists(_embeddedDirectory))
        {
            Directory.Delete(_embeddedDirectory, recursive: true);
        }

        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Open_FreshCluster_InstallsTemplatesAndCreatesIndices()
    {
        await using var store = await OpenAsync();
        Assert.Equal(["exposure-test-services", "exposure-test-observations", "exposure-test-changes"], _fake.Templates.Keys);
        Assert.Contains("exposure-test-services", _fake.Indices.Keys);
        Assert.Contains("exposure-test-changes", _fake.Indices.Keys);
        Assert.Equal("elasticsearch", store.Kind);
        Assert.Equal("8.13.4", store.ClusterVersion);
    }

    [Theory]
    [InlineData("7.9.3", null)]
    [InlineData("2.11.0", "opensearch")]
    public async Task Open_UnsuitableCluster_FailsNamingTheUrl(string version, string? distribution)
    {
        _fake.Version = version;
        _fake.Distribution = distribution;
        var error = await Assert.ThrowsAsync<ElasticException>(OpenAsync);
        Assert.Contains("http://fake.invalid:9200/", error.Message, StringComparison.Ordinal);
        Assert.Contains(version, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_ConformanceFixtures_WritesServicesHistoryAndEvents()
    {
        await using var store = await OpenAsync();
        var result = await store.IngestAsync(ConformanceFixtures.All(), TestContext.Current.CancellationToken);
        Assert.All(result.Dispositions, d => Assert.Equal(IngestDisposition.New, d));

        var services = _fake.Index("exposure-test-services");
        Assert.Equal(10, services.Count);
        Assert.All(services.Values, d => Assert.True(d.Source["live"]!.GetValue<bool>()));
        // Rows are ordered as ingested (the embedded store's row order), newest last.
        Assert.Equal(
            ConformanceFixtures.All().Select(ElasticDocuments.KeyOf),
            services.Values.OrderBy(d => d.Source["seq"]!.GetValue<long>()).Select(d => d.Id));

        // History by month of observation time; ids are record identities.
        Assert.Equal(9, _fake.Index("exposure-test-observations-2026.03").Count);
        var old = Assert.Single(_fake.Index("exposure-test-observations-2025.01").Values);
        Assert.Equal(RecordIdentity.Compute(ConformanceFixtures.All()[5]), old.Id);

        var changes = _fake.Index("exposure-test-changes").Values.Select(d => ElasticDocuments.ReadChange(d.Source, d.Id)).OrderBy(c => c.Id).ToList();
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (ulong)i), changes.Select(c => c.Id));
        Assert.All(changes, c => Assert.Equal(ChangeKind.New, c.Kind));
        Assert.All(_fake.Index("exposure-test-changes").Values, d => Assert.Equal(d.Id, d.Source["record_id"]!.GetValue<string>()));

        // The service document round-trips to the exact stored record.
        var tls = services["8.8.4.4:443/tcp"].Source;
        var stored = ElasticDocuments.ToStoredService(tls, "test");
        Assert.Equal(ConformanceFixtures.All()[1], stored.Record);
        Assert.Equal(RecordIdentity.Compute(stored.Record), stored.RecordId);
        Assert.Equal(Timestamp.FromDateTime(ConformanceFixtures.T0), stored.FirstSeen);
    }

    [Fact]
    public async Task Ingest_SameBatchTwice_SecondIsAllDuplicatesAndWritesNothing()
    {
        await using var store = await OpenAsync();
        await store.IngestAsync(ConformanceFixtures.All(), TestContext.Current.CancellationToken);
        var writes = _fake.Requests.Count(r => r.StartsWith("POST /_bulk", StringComparison.Ordinal));

        var again = await store.IngestAsync(ConformanceFixtures.All(), TestContext.Current.CancellationToken);
        Assert.All(again.Dispositions, d => Assert.Equal(IngestDisposition.Duplicate, d));
        Assert.Equal(writes, _fake.Requests.Count(r => r.StartsWith("POST /_bulk", StringComparison.Ordinal)));
        Assert.Equal(10, _fake.AllDocuments(Prefix + "-observations-").Count());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task Ingest_RandomBatches_DecidesExactlyAsTheEmbeddedStore(int seed)
    {
        await using var elastic = await OpenAsync();
        await using var embedded = EmbeddedStore.Open(_embeddedDirectory);
        foreach (var batch in RandomBatches(seed))
        {
            var expected = await embedded.IngestAsync(batch.Select(r => r.Clone()).ToList(), TestContext.Current.CancellationToken);
            var actual = await elastic.IngestAsync(batch.Select(r => r.Clone()).ToList(), TestContext.Current.CancellationToken);
            Assert.Equal(expected.Dispositions, actual.Dispositions);
        }

        await AssertSameStateAsync(embedded);
    }

    [Fact]
    public async Task Ingest_ServicesBulkRejected_ResendFinishesTheBatchWithoutDuplicates()
    {
        await using var elastic = await OpenAsync();
        await using var embedded = EmbeddedStore.Open(_embeddedDirectory);
        var first = RandomBatches(11).First();
        await embedded.IngestAsync(first, TestContext.Current.CancellationToken);
        await elastic.IngestAsync(first.Select(r => r.Clone()).ToList(), TestContext.Current.CancellationToken);

        var second = RandomBatches(11).Skip(1).First();
        _fake.RejectNextBulkTo = "-services";
        var error = await Assert.ThrowsAsync<ElasticBulkException>(() => elastic.IngestAsync(second.Select(r => r.Clone()).ToList(), TestContext.Current.CancellationToken));
        Assert.Contains("mapper_parsing_exception", error.Message, StringComparison.Ordinal);
        Assert.All(error.Failures, f => Assert.Equal(400, f.Status));

        // The Indexer did not acknowledge, so it resends: the outcome is as if the first attempt never happened.
        var expected = await embedded.IngestAsync(second, TestContext.Current.CancellationToken);
        var actual = await elastic.IngestAsync(second.Select(r => r.Clone()).ToList(), TestContext.Current.CancellationToken);
        Assert.Equal(expected.Dispositions, actual.Dispositions);
        await AssertSameStateAsync(embedded, compareChangeIds: false);
    }

    [Fact]
    public async Task Ingest_AnotherWriterChangedAService_FailsWithAVersionConflict()
    {
        await using var store = await OpenAsync();
        await store.IngestAsync(ConformanceFixtures.All(), TestContext.Current.CancellationToken);
        var newer = ConformanceFixtures.Record("1.1.1.1", 22, "SSH-2.0-OpenSSH_9.6p1\r\n", "OpenSSH", "9.6p1", at: ConformanceFixtures.T0.AddDays(30));
        _fake.BeforeNextBulkTo = ("-services", fake => fake.Put("exposure-test-services", "1.1.1.1:22/tcp", fake.Index("exposure-test-services")["1.1.1.1:22/tcp"].Source));

        var error = await Assert.ThrowsAsync<ElasticBulkException>(() => store.IngestAsync([newer], TestContext.Current.CancellationToken));
        var failure = Assert.Single(error.Failures);
        Assert.Equal(409, failure.Status);
        Assert.Equal("1.1.1.1:22/tcp", failure.Id);
        Assert.Contains("another writer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_ExistingIndices_ContinuesChangeIdsAndRowOrder()
    {
        await using (var first = await OpenAsync())
        {
            await first.IngestAsync(ConformanceFixtures.All(), TestContext.Current.CancellationToken);
        }

        await using var second = await OpenAsync();
        var newer = ConformanceFixtures.Record("1.1.1.1", 22, "SSH-2.0-OpenSSH_9.6p1\r\n", "OpenSSH", "9.6p1", at: ConformanceFixtures.T0.AddDays(30));
        Assert.Equal([IngestDisposition.Updated], (await second.IngestAsync([newer], TestContext.Current.CancellationToken)).Dispositions);
        var change = ElasticDocuments.ReadChange(_fake.Index("exposure-test-changes")[RecordIdentity.Compute(newer)].Source, "test");
        Assert.Equal(11ul, change.Id);
        Assert.Equal(ChangeKind.Changed, change.Kind);
        Assert.Equal("9.2p1", change.OldVersion);
        Assert.Equal(["data", "version"], change.ChangedFields);
        var services = _fake.Index("exposure-test-services");
        var newest = services.Values.MaxBy(d => d.Source["seq"]!.GetValue<long>());
        Assert.Equal("1.1.1.1:22/tcp", newest!.Id);
        Assert.Equal(1, services.Values.Count(d => d.Source["seq"]!.GetValue<long>() == newest.Source["seq"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Open_IndexOfAnotherSchema_IsRefused()
    {
        _fake.Put("exposure-test-services", "x", new JsonObject());
        var error = await Assert.ThrowsAsync<ElasticException>(OpenAsync);
        Assert.Contains("exposure-test-services", error.Message, StringComparison.Ordinal);
    }

    private async Task<ElasticStore> OpenAsync()
    {
        var client = new ElasticClient(new Uri("http://fake.invalid:9200/"), Options, _fake);
        return await ElasticStore.OpenAsync(client, Options, TestContext.Current.CancellationToken);
    }

    /// <summary>Compares the change log, the current services (and their row order) and the history size with the embedded store's.</summary>
    private async Task AssertSameStateAsync(EmbeddedStore embedded, bool compareChangeIds = true)
    {
        var expectedChanges = await embedded.GetChangesAsync(0, 10_000, TestContext.Current.CancellationToken);
        var actualChanges = _fake.Index(Prefix + "-changes").Values.Select(d => ElasticDocuments.ReadChange(d.Source, d.Id)).OrderBy(c => c.Id).ToList();
        if (!compareChangeIds)
        {
            expectedChanges = expectedChanges.Select(c => WithoutId(c)).ToList();
            actualChanges = actualChanges.Select(c => WithoutId(c)).ToList();
        }

        Assert.Equal(expectedChanges, actualChanges);

        var expectedServices = new List<StoredService>();
        await foreach (var service in embedded.ExportAsync(MatchAllNode.Instance, TestContext.Current.CancellationToken))
        {
            expectedServices.Add(service);
        }

        var actualServices = _fake.Index(Prefix + "-services").Values
            .Where(d => d.Source["live"]!.GetValue<bool>())
            .OrderByDescending(d => d.Source["seq"]!.GetValue<long>())
            .Select(d => ElasticDocuments.ToStoredService(d.Source, d.Id))
            .ToList();
        Assert.Equal(expectedServices, actualServices);

        var stats = await embedded.GetStatsAsync(TestContext.Current.CancellationToken);
        Assert.Equal(stats.Observations, _fake.AllDocuments(Prefix + "-observations-").Count());
    }

    private static ChangeEvent WithoutId(ChangeEvent change)
    {
        var copy = change.Clone();
        copy.Id = 0;
        return copy;
    }

    /// <summary>Batches over a few services: newer, older and equal times, closed ports, changed and unchanged banners, repeats.</summary>
    private static List<List<ServiceRecord>> RandomBatches(int seed)
    {
        var random = new Random(seed);
        var sent = new List<ServiceRecord>();
        var batches = new List<List<ServiceRecord>>();
        string[] ips = ["192.0.2.1", "192.0.2.2", "2001:db8::5"];
        uint[] ports = [22, 80];
        for (var b = 0; b < 6; b++)
        {
            var batch = new List<ServiceRecord>();
            for (var i = 0; i < 10; i++)
            {
                if (sent.Count > 0 && random.Next(6) == 0)
                {
                    batch.Add(sent[random.Next(sent.Count)].Clone());
                    continue;
                }

                var variant = random.Next(3);
                var record = ConformanceFixtures.Record(
                    ips[random.Next(ips.Length)],
                    ports[random.Next(ports.Length)],
                    "banner " + variant,
                    "product " + (variant % 2),
                    "1." + variant,
                    at: ConformanceFixtures.T0.AddHours(random.Next(-48, 96)));
                if (random.Next(4) == 0)
                {
                    record.Outcome = random.Next(2) == 0 ? GrabOutcome.Refused : GrabOutcome.ConnectTimeout;
                    record.Data = ByteString.Empty;
                }

                batch.Add(record);
                sent.Add(record);
            }

            batches.Add(batch);
        }

        return batches;
    }
}
