using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace ExposureIndex.GeoIp;

/// <summary>What a GeoIP database answers, chosen from its metadata database_type.</summary>
public enum GeoDatabaseKind
{
    /// <summary>A type this library does not extract fields from (raw lookups still work).</summary>
    Unknown = 0,

    /// <summary>City or Country databases (GeoIP2-City, GeoLite2-Country, ...): locations.</summary>
    Location = 1,

    /// <summary>GeoLite2-ASN: autonomous system number and organization.</summary>
    Asn = 2,

    /// <summary>GeoIP2-ISP: ASN, organization and ISP.</summary>
    Isp = 3,

    /// <summary>GeoIP2-Enterprise: locations, plus ASN/organization/ISP under "traits".</summary>
    Enterprise = 4,
}

/// <summary>
/// Location fields for a Shodan-style document. Names are the English ("en") ones. Absent fields are null;
/// the country is the physical one ("country"), not "registered_country".
/// </summary>
public sealed record GeoLocation(
    string? CountryCode,
    string? CountryName,
    string? City,
    string? RegionCode,
    string? PostalCode,
    double? Latitude,
    double? Longitude,
    string? ContinentCode,
    int? AccuracyRadius);

/// <summary>Who holds a network: the ASN (formatted "AS1221"), the organization and, from ISP databases, the ISP.</summary>
public sealed record NetworkOwner(uint? AsnNumber, string? Organization, string? Isp)
{
    /// <summary>"AS" followed by the number, or null when the database has no ASN for the network.</summary>
    public string? Asn => AsnNumber is { } number ? "AS" + number.ToString(CultureInfo.InvariantCulture) : null;
}

/// <summary>Both halves of an enrichment; either may be null.</summary>
public sealed record GeoEnrichment(GeoLocation? Location, NetworkOwner? Owner);

/// <summary>Typed GeoIP lookups. A miss (or a database that does not hold that kind of data) is false.</summary>
public interface IGeoLookup
{
    bool TryGetLocation(IPAddress address, [NotNullWhen(true)] out GeoLocation? location);

    bool TryGetNetworkOwner(IPAddress address, [NotNullWhen(true)] out NetworkOwner? owner);
}

/// <summary>Asks several databases (e.g. a City and an ASN database) and keeps the first answer of each kind.</summary>
public sealed class GeoEnricher
{
    private readonly IGeoLookup[] _sources;

    public GeoEnricher(IEnumerable<IGeoLookup> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        _sources = [.. sources];
    }

    public GeoEnrichment Enrich(IPAddress address)
    {
        GeoLocation? location = null;
        NetworkOwner? owner = null;
        foreach (var source in _sources)
        {
            if (location is null && source.TryGetLocation(address, out var foundLocation))
            {
                location = foundLocation;
            }

            if (owner is null && source.TryGetNetworkOwner(address, out var foundOwner))
            {
                owner = foundOwner;
            }
        }

        return new GeoEnrichment(location, owner);
    }
}
