using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Query;

namespace ExposureIndex.Storage;

/// <summary>
/// The one store interface (GUIDE §3.8). The embedded store and Elasticsearch implement it and pass the same
/// conformance suite. Documents are <see cref="StoredService"/>: one per ip:port/transport, the newest
/// observation plus first_seen/last_seen; history keeps every observation.
/// </summary>
public interface IExposureStore : IAsyncDisposable
{
    /// <summary>"embedded" or "elasticsearch".</summary>
    string Kind { get; }

    /// <summary>
    /// Stores validated, enriched records. Returns only once they are durable (the Indexer acknowledges after this).
    /// Idempotent by record identity: records already stored come back as <see cref="IngestDisposition.Duplicate"/>.
    /// </summary>
    Task<IngestResult> IngestAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken = default);

    /// <summary>Runs a query: total, one page of matches (newest first) and facets.</summary>
    Task<SearchResult> SearchAsync(SearchRequest request, CancellationToken cancellationToken = default);

    /// <summary>The current services of one host, or null when the store knows nothing of it; with history, every observation.</summary>
    Task<HostView?> GetHostAsync(IPAddress address, bool history, CancellationToken cancellationToken = default);

    /// <summary>Streams every match of a query (exports), newest first.</summary>
    IAsyncEnumerable<StoredService> ExportAsync(QueryNode query, CancellationToken cancellationToken = default);

    /// <summary>Change events with id greater than <paramref name="afterId"/>, oldest first.</summary>
    Task<IReadOnlyList<ChangeEvent>> GetChangesAsync(ulong afterId, int limit, CancellationToken cancellationToken = default);

    Task<StoreStats> GetStatsAsync(CancellationToken cancellationToken = default);
}

/// <summary>What happened to one ingested record.</summary>
public enum IngestDisposition
{
    /// <summary>A service seen for the first time, or seen again after it was gone.</summary>
    New = 1,

    /// <summary>A newer observation of a known service; it became the current one.</summary>
    Updated = 2,

    /// <summary>An observation older than the current one: kept in history only.</summary>
    History = 3,

    /// <summary>Already stored (same record identity): nothing changed.</summary>
    Duplicate = 4,

    /// <summary>The service answered closed / not at all: it is no longer current.</summary>
    Gone = 5,
}

public sealed record IngestResult(IReadOnlyList<IngestDisposition> Dispositions)
{
    public int Count(IngestDisposition disposition) => Dispositions.Count(d => d == disposition);
}

/// <summary>A query with paging and facets. <paramref name="Scope"/> is an access-scoping filter AND-ed in (fails closed).</summary>
public sealed record SearchRequest(QueryNode Query, IReadOnlyList<FacetRequest> Facets, int Offset = 0, int Limit = 100, QueryNode? Scope = null)
{
    public static SearchRequest CountOnly(QueryNode query, IReadOnlyList<FacetRequest>? facets = null)
        => new(query, facets ?? [], 0, 0);
}

public sealed record FacetBucket(string Value, long Count);

public sealed record SearchResult(long Total, IReadOnlyList<StoredService> Matches, IReadOnlyDictionary<string, IReadOnlyList<FacetBucket>> Facets);

/// <summary>A host: its current services and, when asked, every observation of them.</summary>
public sealed record HostView(IPAddress Address, IReadOnlyList<StoredService> Services, IReadOnlyList<ServiceRecord> History, DateTime LastUpdate);

public sealed record StoreStats(long Services, long Hosts, long Observations, long Changes, long DiskBytes, IReadOnlyDictionary<string, string> Details);
