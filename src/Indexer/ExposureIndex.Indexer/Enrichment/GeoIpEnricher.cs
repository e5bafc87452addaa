using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.GeoIp;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Indexer.Enrichment;

/// <summary>
/// Where a service is and who runs its network, from MaxMind-format databases (City/Country for location,
/// ASN/ISP for the owner), under Shodan's field names. Facts a record already carries (an import from
/// another scanner, a passive sensor) are kept; only empty fields are filled.
/// </summary>
public sealed partial class GeoIpEnricher : IRecordEnricher, IDisposable
{
    private readonly IReadOnlyList<ReloadingGeoDatabase> _databases;
    private readonly GeoEnricher _enricher;
    private readonly ILogger<GeoIpEnricher> _logger;

    public GeoIpEnricher(IReadOnlyList<ReloadingGeoDatabase> databases, ILogger<GeoIpEnricher> logger)
    {
        ArgumentNullException.ThrowIfNull(databases);
        _databases = databases;
        _logger = logger;
        _enricher = new GeoEnricher(databases);
        foreach (var database in databases)
        {
            database.Reloaded += (_, e) => LogReloaded(_logger, e.Path, e.Metadata.DatabaseType, e.Generation);
            database.ReloadFailed += (_, e) => LogReloadFailed(_logger, e.Path, e.Error.Message);
        }
    }

    public string Name => "geoip";

    /// <summary>Opens each database (verified up front; a corrupt file is refused with the reader's precise error) and watches it for replacement.</summary>
    public static GeoIpEnricher Open(IEnumerable<string> paths, ILogger<GeoIpEnricher> logger, TimeSpan? pollInterval = null)
    {
        var opened = new List<ReloadingGeoDatabase>();
        try
        {
            foreach (var path in paths)
            {
                opened.Add(ReloadingGeoDatabase.Open(path, new ReloadingGeoDatabaseOptions { PollInterval = pollInterval ?? TimeSpan.FromSeconds(30) }));
            }
        }
        catch
        {
            foreach (var database in opened)
            {
                database.Dispose();
            }

            throw;
        }

        foreach (var database in opened)
        {
            LogOpened(logger, database.Path, database.Metadata.DatabaseType, database.Metadata.NodeCount);
        }

        return new GeoIpEnricher(opened, logger);
    }

    public ValueTask EnrichAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken)
    {
        foreach (var record in records)
        {
            Enrich(record);
        }

        return ValueTask.CompletedTask;
    }

    public void Enrich(ServiceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!IPAddress.TryParse(record.Ip, out var address))
        {
            return;
        }

        var found = _enricher.Enrich(address);
        if (found.Location is { } geo && string.IsNullOrEmpty(record.Location?.CountryCode))
        {
            var location = record.Location ?? new Location();
            location.CountryCode = geo.CountryCode ?? string.Empty;
            location.CountryName = geo.CountryName ?? string.Empty;
            location.City = geo.City ?? string.Empty;
            location.RegionCode = geo.RegionCode ?? string.Empty;
            location.PostalCode = geo.PostalCode ?? string.Empty;
            location.ContinentCode = geo.ContinentCode ?? string.Empty;
            if (geo.Latitude is { } lat && geo.Longitude is { } lon)
            {
                location.Latitude = lat;
                location.Longitude = lon;
                location.HasCoordinates = true;
            }

            if (geo.AccuracyRadius is > 0 and var radius)
            {
                location.AccuracyRadiusKm = (uint)radius;
            }

            record.Location = location;
        }

        if (found.Owner is { } owner)
        {
            if (string.IsNullOrEmpty(record.Asn) && owner.Asn is { } asn)
            {
                record.Asn = asn;
            }

            if (string.IsNullOrEmpty(record.Org) && !string.IsNullOrEmpty(owner.Organization))
            {
                record.Org = owner.Organization;
            }

            if (string.IsNullOrEmpty(record.Isp) && !string.IsNullOrEmpty(owner.Isp))
            {
                record.Isp = owner.Isp;
            }
        }
    }

    public void Dispose()
    {
        foreach (var database in _databases)
        {
            database.Dispose();
        }
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "GeoIP database {Path} opened ({DatabaseType}, {Nodes} nodes)")]
    private static partial void LogOpened(ILogger logger, string path, string databaseType, long nodes);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Information, Message = "GeoIP database {Path} replaced ({DatabaseType}, generation {Generation})")]
    private static partial void LogReloaded(ILogger logger, string path, string databaseType, long generation);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Error, Message = "GeoIP database {Path} was replaced by a file that cannot be used; keeping the previous one: {Error}")]
    private static partial void LogReloadFailed(ILogger logger, string path, string error);
}
