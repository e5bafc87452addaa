using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Indexer.Enrichment;

/// <summary>
/// Adds facts to validated records before they are stored (location, network owner, hostnames, tags, CPE).
/// Enrichers never reject a record: a failed lookup leaves the field empty.
/// </summary>
public interface IRecordEnricher
{
    string Name { get; }

    ValueTask EnrichAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken);
}
