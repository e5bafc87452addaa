using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace ExposureIndex.GeoIp;

/// <summary>Options for <see cref="GeoDatabase"/>.</summary>
public sealed record GeoDatabaseOptions
{
    /// <summary>Slots of the typed-result cache keyed by record offset (0 turns it off).</summary>
    public int CacheSize { get; init; } = 16384;

    /// <summary>Run <see cref="MmdbReader.Verify"/> when opening, so a corrupt file is rejected up front.</summary>
    public bool VerifyOnOpen { get; init; } = true;

    /// <summary>Overrides the kind inferred from database_type.</summary>
    public GeoDatabaseKind? Kind { get; init; }

    /// <summary>Every problem with these options (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (CacheSize is < 0 or > 1 << 24)
        {
            errors.Add($"CacheSize must be between 0 and {1 << 24}, not {CacheSize}.");
        }

        if (Kind is { } kind && !Enum.IsDefined(kind))
        {
            errors.Add($"Kind {(int)kind} is not a GeoDatabaseKind.");
        }

        return errors;
    }
}

/// <summary>
/// A GeoIP database with typed, cached lookups for enrichment: <see cref="TryGetLocation(IPAddress, out GeoLocation?)"/>
/// for City/Country/Enterprise databases and <see cref="TryGetNetworkOwner(IPAddress, out NetworkOwner?)"/> for
/// ASN/ISP/Enterprise databases (chosen by database_type). Results are extracted without decoding the whole record
/// and cached by record offset, since many networks share one record. Thread-safe.
/// </summary>
public sealed class GeoDatabase : IGeoLookup, IDisposable
{
    private readonly OffsetCache<GeoLocation>? _locations;
    private readonly OffsetCache<NetworkOwner>? _owners;

    /// <summary>Wraps <paramref name="reader"/>, taking ownership of it.</summary>
    public GeoDatabase(MmdbReader reader, GeoDatabaseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        options = CheckOptions(options);
        Reader = reader;
        Kind = options.Kind ?? KindOf(reader.Metadata.DatabaseType);
        if (options.CacheSize > 0)
        {
            _locations = SupportsLocation ? new OffsetCache<GeoLocation>(options.CacheSize) : null;
            _owners = SupportsNetworkOwner ? new OffsetCache<NetworkOwner>(options.CacheSize) : null;
        }
    }

    public MmdbReader Reader { get; }

    public GeoDatabaseKind Kind { get; }

    public bool SupportsLocation => Kind is GeoDatabaseKind.Location or GeoDatabaseKind.Enterprise;

    public bool SupportsNetworkOwner => Kind is GeoDatabaseKind.Asn or GeoDatabaseKind.Isp or GeoDatabaseKind.Enterprise;

    /// <summary>Opens (and by default verifies) the database at <paramref name="path"/>.</summary>
    /// <exception cref="MmdbFormatException">The file is not a valid MaxMind DB.</exception>
    public static GeoDatabase Open(string path, GeoDatabaseOptions? options = null)
    {
        options = CheckOptions(options);
        var reader = MmdbReader.Open(path);
        try
        {
            if (options.VerifyOnOpen)
            {
                reader.Verify();
            }

            return new GeoDatabase(reader, options);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>The kind a database_type names: Enterprise, ASN, ISP, then City/Country; otherwise Unknown.</summary>
    public static GeoDatabaseKind KindOf(string databaseType)
    {
        ArgumentNullException.ThrowIfNull(databaseType);
        if (databaseType.Contains("Enterprise", StringComparison.OrdinalIgnoreCase))
        {
            return GeoDatabaseKind.Enterprise;
        }

        if (databaseType.Contains("ASN", StringComparison.OrdinalIgnoreCase))
        {
            return GeoDatabaseKind.Asn;
        }

        if (databaseType.Contains("ISP", StringComparison.OrdinalIgnoreCase))
        {
            return GeoDatabaseKind.Isp;
        }

        return databaseType.Contains("City", StringComparison.OrdinalIgnoreCase) || databaseType.Contains("Country", StringComparison.OrdinalIgnoreCase)
            ? GeoDatabaseKind.Location
            : GeoDatabaseKind.Unknown;
    }

    public bool TryGetLocation(IPAddress address, [NotNullWhen(true)] out GeoLocation? location) => TryGetLocation(address, out location, out _);

    /// <summary>The location of <paramref name="address"/>; false on a miss or when this is not a location database.</summary>
    public bool TryGetLocation(IPAddress address, [NotNullWhen(true)] out GeoLocation? location, out int prefixLength)
    {
        location = null;
        prefixLength = 0;
        if (!SupportsLocation)
        {
            return false;
        }

        Span<byte> scratch = stackalloc byte[16];
        var normalized = MmdbReader.Normalize(address, scratch);
        Reader.EnterView();
        try
        {
            if (!Reader.FindInView(normalized, out var offset, out prefixLength))
            {
                return false;
            }

            if (_locations is not null && _locations.TryGet(offset, out location))
            {
                return true;
            }

            location = GeoRecordExtractor.Location(Reader.Data, offset);
            _locations?.Set(offset, location);
            return true;
        }
        finally
        {
            Reader.ExitView();
        }
    }

    public bool TryGetNetworkOwner(IPAddress address, [NotNullWhen(true)] out NetworkOwner? owner) => TryGetNetworkOwner(address, out owner, out _);

    /// <summary>The ASN/organization/ISP of <paramref name="address"/>; false on a miss or when this database has none.</summary>
    public bool TryGetNetworkOwner(IPAddress address, [NotNullWhen(true)] out NetworkOwner? owner, out int prefixLength)
    {
        owner = null;
        prefixLength = 0;
        if (!SupportsNetworkOwner)
        {
            return false;
        }

        Span<byte> scratch = stackalloc byte[16];
        var normalized = MmdbReader.Normalize(address, scratch);
        Reader.EnterView();
        try
        {
            if (!Reader.FindInView(normalized, out var offset, out prefixLength))
            {
                return false;
            }

            if (_owners is not null && _owners.TryGet(offset, out owner))
            {
                return true;
            }

            owner = GeoRecordExtractor.Owner(Reader.Data, offset, underTraits: Kind == GeoDatabaseKind.Enterprise);
            _owners?.Set(offset, owner);
            return true;
        }
        finally
        {
            Reader.ExitView();
        }
    }

    public void Dispose() => Reader.Dispose();

    private static GeoDatabaseOptions CheckOptions(GeoDatabaseOptions? options)
    {
        options ??= new GeoDatabaseOptions();
        var errors = options.Validate();
        return errors.Count == 0 ? options : throw new ArgumentException(string.Join(" ", errors), nameof(options));
    }
}
