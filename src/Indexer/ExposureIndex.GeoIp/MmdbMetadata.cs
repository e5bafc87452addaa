namespace ExposureIndex.GeoIp;

/// <summary>
/// The metadata map of a MaxMind DB file (spec 2.0, "Database Metadata"), validated: record_size is 24, 28
/// or 32, ip_version is 4 or 6, binary_format_major_version is 2, and the search tree fits before the metadata.
/// </summary>
public sealed class MmdbMetadata
{
    internal MmdbMetadata(
        uint nodeCount,
        int recordSize,
        int ipVersion,
        string databaseType,
        IReadOnlyList<string> languages,
        int binaryFormatMajorVersion,
        int binaryFormatMinorVersion,
        ulong buildEpoch,
        IReadOnlyDictionary<string, string> description,
        MmdbValue raw)
    {
        NodeCount = nodeCount;
        RecordSize = recordSize;
        IpVersion = ipVersion;
        DatabaseType = databaseType;
        Languages = languages;
        BinaryFormatMajorVersion = binaryFormatMajorVersion;
        BinaryFormatMinorVersion = binaryFormatMinorVersion;
        BuildEpoch = buildEpoch;
        Description = description;
        Raw = raw;
    }

    public uint NodeCount { get; }

    /// <summary>Bits per search-tree record: 24, 28 or 32.</summary>
    public int RecordSize { get; }

    /// <summary>4 (IPv4 addresses only) or 6.</summary>
    public int IpVersion { get; }

    public string DatabaseType { get; }

    public IReadOnlyList<string> Languages { get; }

    public int BinaryFormatMajorVersion { get; }

    public int BinaryFormatMinorVersion { get; }

    /// <summary>Build time as Unix seconds, exactly as stored (may be any uint64).</summary>
    public ulong BuildEpoch { get; }

    /// <summary>The build time, or null when <see cref="BuildEpoch"/> is beyond what a DateTimeOffset can hold.</summary>
    public DateTimeOffset? BuildTime =>
        BuildEpoch <= (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds() ? DateTimeOffset.FromUnixTimeSeconds((long)BuildEpoch) : null;

    /// <summary>Descriptions by language code (may be empty).</summary>
    public IReadOnlyDictionary<string, string> Description { get; }

    /// <summary>Search tree size in bytes: node_count * record_size * 2 / 8 (spec: "Calculating the Search Tree Section Size").</summary>
    public long SearchTreeSize => (long)NodeCount * RecordSize / 4;

    /// <summary>The whole metadata map, including keys this reader does not interpret.</summary>
    public MmdbValue Raw { get; }

    internal static MmdbMetadata FromMap(MmdbValue map)
    {
        if (map.Kind != MmdbValueKind.Map)
        {
            throw MmdbFormatException.Metadata($"the metadata is a {map.Kind}, not a map");
        }

        var nodeCount = (uint)RequireUnsigned(map, "node_count", uint.MaxValue);
        var recordSize = (int)RequireUnsigned(map, "record_size", ushort.MaxValue);
        if (recordSize is not (24 or 28 or 32))
        {
            throw MmdbFormatException.Metadata($"record_size {recordSize} is not supported (24, 28 or 32)");
        }

        var ipVersion = (int)RequireUnsigned(map, "ip_version", ushort.MaxValue);
        if (ipVersion is not (4 or 6))
        {
            throw MmdbFormatException.Metadata($"ip_version {ipVersion} is neither 4 nor 6");
        }

        var major = (int)RequireUnsigned(map, "binary_format_major_version", ushort.MaxValue);
        if (major != 2)
        {
            throw MmdbFormatException.Metadata($"binary_format_major_version {major} is not supported (this reader reads format 2)");
        }

        var minor = (int)RequireUnsigned(map, "binary_format_minor_version", ushort.MaxValue);
        var buildEpoch = RequireUnsigned(map, "build_epoch", ulong.MaxValue);
        if (!map.TryGetValue("database_type", out var type) || type.Kind != MmdbValueKind.String)
        {
            throw MmdbFormatException.Metadata(type is null ? "required key 'database_type' is missing" : $"database_type is a {type.Kind}, not a string");
        }

        if (nodeCount == 0)
        {
            throw MmdbFormatException.Metadata("node_count is 0; the search tree needs at least its root node");
        }

        // languages and description are optional (spec), but when present they must have the documented shape.
        var languages = new List<string>();
        if (map.TryGetValue("languages", out var languageArray))
        {
            if (languageArray.Kind != MmdbValueKind.Array)
            {
                throw MmdbFormatException.Metadata($"languages is a {languageArray.Kind}, not an array");
            }

            foreach (var item in languageArray.Items)
            {
                languages.Add(item.Kind == MmdbValueKind.String
                    ? item.AsString()
                    : throw MmdbFormatException.Metadata($"languages holds a {item.Kind}, not a string"));
            }
        }

        var description = new Dictionary<string, string>(StringComparer.Ordinal);
        if (map.TryGetValue("description", out var descriptionMap))
        {
            if (descriptionMap.Kind != MmdbValueKind.Map)
            {
                throw MmdbFormatException.Metadata($"description is a {descriptionMap.Kind}, not a map");
            }

            foreach (var entry in descriptionMap.Entries)
            {
                description[entry.Key] = entry.Value.Kind == MmdbValueKind.String
                    ? entry.Value.AsString()
                    : throw MmdbFormatException.Metadata($"description '{entry.Key}' is a {entry.Value.Kind}, not a string");
            }
        }

        return new MmdbMetadata(nodeCount, recordSize, ipVersion, type.AsString(), languages.AsReadOnly(), major, minor, buildEpoch, description.AsReadOnly(), map);
    }

    private static ulong RequireUnsigned(MmdbValue map, string key, ulong maximum)
    {
        if (!map.TryGetValue(key, out var value))
        {
            throw MmdbFormatException.Metadata($"required key '{key}' is missing");
        }

        // The spec fixes the widths (node_count uint32, record_size uint16, ...); writers differ, so any
        // unsigned width is accepted as long as the value fits.
        UInt128 number = value.Kind switch
        {
            MmdbValueKind.UInt16 or MmdbValueKind.UInt32 or MmdbValueKind.UInt64 or MmdbValueKind.UInt128 => value.AsUInt128(),
            MmdbValueKind.Int32 when value.AsInt64() >= 0 => (ulong)value.AsInt64(),
            _ => throw MmdbFormatException.Metadata($"{key} is a {value.Kind}, not an unsigned integer"),
        };

        if (number > maximum)
        {
            throw MmdbFormatException.Metadata($"{key} {number} is larger than {maximum}");
        }

        return (ulong)number;
    }
}
