using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace ExposureIndex.GeoIp;

/// <summary>Options for <see cref="MmdbReader"/>.</summary>
public sealed record MmdbReaderOptions
{
    /// <summary>
    /// Slots of the decoded-record cache keyed by data offset (rounded up to a power of two); 0 turns it off.
    /// Networks share records, so a few thousand slots catch most repeated lookups.
    /// </summary>
    public int RecordCacheSize { get; init; }

    /// <summary>Every problem with these options (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (RecordCacheSize is < 0 or > 1 << 24)
        {
            errors.Add($"RecordCacheSize must be between 0 and {1 << 24}, not {RecordCacheSize}.");
        }

        return errors;
    }
}

/// <summary>
/// A MaxMind DB (.mmdb, format 2.x) reader over a read-only memory-mapped file. Thread-safe; every read is
/// bounds-checked, so a corrupt or hostile file yields <see cref="MmdbFormatException"/> and never an
/// out-of-bounds read, a hang or an unbounded allocation. Call <see cref="Verify"/> to reject a corrupt file
/// up front instead of at the first lookup that reaches the damage.
/// <para>
/// Addresses: IPv4 lookups in an IPv6 database start at the IPv4 subtree (::/96). IPv4-mapped IPv6 addresses
/// (::ffff:a.b.c.d) are looked up as the IPv4 address a.b.c.d, in either kind of database, and report an
/// IPv4 prefix length. Any other IPv6 address in an IPv4-only database is a miss with prefix length 0.
/// </para>
/// <para>
/// The file is mapped in place: do not overwrite it while it is open (a shrinking file faults the process,
/// as with any mmap). Replace it by rename, or use <see cref="ReloadingGeoDatabase"/>, which maps a private copy.
/// </para>
/// </summary>
public sealed class MmdbReader : IDisposable
{
    private const int MetadataMaxSize = 128 * 1024;
    private const int SeparatorSize = 16;

    // "\xAB\xCD\xEFMaxMind.com" (spec: "Database Metadata").
    private static ReadOnlySpan<byte> MetadataMarker =>
        [0xAB, 0xCD, 0xEF, (byte)'M', (byte)'a', (byte)'x', (byte)'M', (byte)'i', (byte)'n', (byte)'d', (byte)'.', (byte)'c', (byte)'o', (byte)'m'];

    private readonly MmdbBuffer _buffer;
    private readonly MmdbSearchTree _tree;
    private readonly MmdbDecoder _data;
    private readonly OffsetCache<MmdbValue>? _cache;
    private readonly long _separatorStart;

    private MmdbReader(MmdbBuffer buffer, string source, MmdbReaderOptions options)
    {
        _buffer = buffer;
        Source = source;

        // Spec: the *last* marker starts the metadata, which is at most 128 KiB including the marker.
        var tailLength = Math.Min(buffer.Length, MetadataMaxSize);
        buffer.TrySlice(buffer.Length - tailLength, tailLength, out var tail);
        var markerIndex = tail.LastIndexOf(MetadataMarker);
        if (markerIndex < 0)
        {
            throw new MmdbFormatException(
                $"MMDB metadata marker \\xAB\\xCD\\xEFMaxMind.com not found in the last {tailLength} bytes of {source}: not a MaxMind DB file, or truncated",
                MmdbSection.File,
                null,
                null);
        }

        var markerStart = buffer.Length - tailLength + markerIndex;
        var metadataStart = markerStart + MetadataMarker.Length;
        var metadataDecoder = new MmdbDecoder(buffer, metadataStart, buffer.Length - metadataStart, MmdbSection.Metadata);
        if (metadataDecoder.Size == 0)
        {
            throw MmdbFormatException.Metadata("nothing follows the metadata marker");
        }

        Metadata = MmdbMetadata.FromMap(metadataDecoder.Decode(0));

        // The tree, the separator and a (possibly empty) data section must fit before the marker; everything the
        // unchecked node reads in MmdbSearchTree rely on is proved here.
        _separatorStart = Metadata.SearchTreeSize;
        var dataStart = _separatorStart + SeparatorSize;
        if (dataStart > markerStart)
        {
            throw MmdbFormatException.Metadata(
                $"node_count {Metadata.NodeCount} with record_size {Metadata.RecordSize} needs a {Metadata.SearchTreeSize}-byte search tree plus the 16-byte separator, " +
                $"which does not fit before the metadata marker at file offset {markerStart}");
        }

        _data = new MmdbDecoder(buffer, dataStart, markerStart - dataStart, MmdbSection.DataSection);
        _tree = new MmdbSearchTree(buffer, Metadata, _data.Size);
        if (options.RecordCacheSize > 0)
        {
            _cache = new OffsetCache<MmdbValue>(options.RecordCacheSize);
        }
    }

    /// <summary>The validated metadata.</summary>
    public MmdbMetadata Metadata { get; }

    /// <summary>Where the data came from (the path, or "memory").</summary>
    public string Source { get; }

    /// <summary>Size of the data section in bytes.</summary>
    public long DataSectionSize => _data.Size;

    /// <summary>Maps <paramref name="path"/> read-only and validates its metadata and section layout.</summary>
    /// <exception cref="MmdbFormatException">The file is not a valid MaxMind DB.</exception>
    public static MmdbReader Open(string path, MmdbReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var validOptions = CheckOptions(options);
        var buffer = MmdbBuffer.Map(path);
        return Create(buffer, path, validOptions);
    }

    /// <summary>Reads a database held in memory (copied into native memory).</summary>
    public static MmdbReader FromBytes(ReadOnlySpan<byte> data, MmdbReaderOptions? options = null)
    {
        var validOptions = CheckOptions(options);
        return Create(MmdbBuffer.FromBytes(data), "memory", validOptions);
    }

    /// <summary>Looks up <paramref name="address"/>; a miss returns false (not an exception).</summary>
    /// <exception cref="MmdbFormatException">The lookup reached a corrupt part of the file.</exception>
    public bool TryLookup(IPAddress address, [NotNullWhen(true)] out MmdbValue? record, out int prefixLength)
    {
        Span<byte> bytes = stackalloc byte[16];
        var normalized = Normalize(address, bytes);
        _buffer.Enter();
        try
        {
            if (!_tree.TryFind(normalized, out var offset, out prefixLength))
            {
                record = null;
                return false;
            }

            record = DecodeCached(offset);
            return true;
        }
        finally
        {
            _buffer.Exit();
        }
    }

    /// <summary>The record for <paramref name="address"/>, or null when the database has none.</summary>
    public MmdbValue? Lookup(IPAddress address) => TryLookup(address, out var record, out _) ? record : null;

    /// <summary>
    /// The low-level walk: finds the data-section offset of the record for a 4- or 16-byte big-endian
    /// address without decoding it. Offsets identify records: networks that share a record share the offset.
    /// </summary>
    public bool TryLookupOffset(ReadOnlySpan<byte> address, out long dataOffset, out int prefixLength)
    {
        if (address.Length is not (4 or 16))
        {
            throw new ArgumentException($"An address is 4 or 16 bytes, not {address.Length}.", nameof(address));
        }

        if (address.Length == 16 && IsIpv4Mapped(address))
        {
            address = address[12..];
        }

        _buffer.Enter();
        try
        {
            return _tree.TryFind(address, out dataOffset, out prefixLength);
        }
        finally
        {
            _buffer.Exit();
        }
    }

    /// <inheritdoc cref="TryLookupOffset(ReadOnlySpan{byte}, out long, out int)"/>
    public bool TryLookupOffset(IPAddress address, out long dataOffset, out int prefixLength)
    {
        Span<byte> bytes = stackalloc byte[16];
        return TryLookupOffset(Normalize(address, bytes), out dataOffset, out prefixLength);
    }

    /// <summary>Decodes the record at a data-section offset returned by <see cref="TryLookupOffset(ReadOnlySpan{byte}, out long, out int)"/>.</summary>
    public MmdbValue DecodeAt(long dataOffset)
    {
        if (dataOffset < 0 || dataOffset >= _data.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(dataOffset), dataOffset, $"The data section has {_data.Size} bytes.");
        }

        _buffer.Enter();
        try
        {
            return DecodeCached(dataOffset);
        }
        finally
        {
            _buffer.Exit();
        }
    }

    /// <summary>
    /// Walks the whole search tree and decodes every record it points to (like mmdbverify), so a corrupt file
    /// can be rejected before it serves lookups. Takes time proportional to the file.
    /// </summary>
    /// <exception cref="MmdbFormatException">The first problem found, naming the part and node/offset.</exception>
    public void Verify()
    {
        _buffer.Enter();
        try
        {
            MmdbVerifier.Verify(_buffer, _tree, _data, _separatorStart);
        }
        finally
        {
            _buffer.Exit();
        }
    }

    public void Dispose() => _buffer.Dispose();

    internal MmdbDecoder Data => _data;

    internal void EnterView() => _buffer.Enter();

    internal void ExitView() => _buffer.Exit();

    internal bool FindInView(ReadOnlySpan<byte> normalizedAddress, out long dataOffset, out int prefixLength) =>
        _tree.TryFind(normalizedAddress, out dataOffset, out prefixLength);

    /// <summary>
    /// Writes the address's bytes into <paramref name="scratch"/>; an IPv4-mapped IPv6 address becomes its
    /// 4-byte IPv4 form (see the class remarks).
    /// </summary>
    internal static ReadOnlySpan<byte> Normalize(IPAddress address, Span<byte> scratch)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            || !address.TryWriteBytes(scratch, out var written))
        {
            throw new ArgumentException($"Not an IPv4 or IPv6 address: {address}", nameof(address));
        }

        ReadOnlySpan<byte> bytes = scratch[..written];
        return written == 16 && IsIpv4Mapped(bytes) ? bytes[12..] : bytes;
    }

    private static bool IsIpv4Mapped(ReadOnlySpan<byte> address) =>
        address[..10].IndexOfAnyExcept((byte)0) < 0 && address[10] == 0xFF && address[11] == 0xFF;

    private static MmdbReaderOptions CheckOptions(MmdbReaderOptions? options)
    {
        options ??= new MmdbReaderOptions();
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        return options;
    }

    private static MmdbReader Create(MmdbBuffer buffer, string source, MmdbReaderOptions options)
    {
        try
        {
            return new MmdbReader(buffer, source, options);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private MmdbValue DecodeCached(long offset)
    {
        if (_cache is null)
        {
            return _data.Decode(offset);
        }

        if (!_cache.TryGet(offset, out var value))
        {
            value = _data.Decode(offset);
            _cache.Set(offset, value);
        }

        return value;
    }
}
