using System.Buffers.Binary;
using System.Net;
using System.Text;
using ExposureIndex.GeoIp;

namespace ExposureIndex.GeoIp.Tests.Support;

/// <summary>
/// A small MaxMind DB writer for tests: builds valid files of any record size from prefixes and values, and
/// lets a test corrupt any part (raw data bytes, pointers of a chosen form, metadata). Values are plain .NET
/// objects: string, byte[], bool, double, float, int (int32), ushort, uint, ulong, UInt128, object[] (array),
/// Map (ordered map), Raw (pre-encoded bytes), Pointer (a pointer of a chosen form), and MmdbValue.
/// </summary>
internal sealed class MmdbWriter
{
    private readonly TrieNode _root = new();
    private readonly List<object> _records = [];
    private readonly Dictionary<object, int> _recordIndex = new(ReferenceEqualityComparer.Instance);

    public MmdbWriter(int ipVersion = 6, int recordSize = 24)
    {
        IpVersion = ipVersion;
        RecordSize = recordSize;
    }

    public int IpVersion { get; }

    public int RecordSize { get; }

    public string DatabaseType { get; set; } = "Test";

    /// <summary>Bytes placed at the start of the data section, before the records (padding for pointer tests).</summary>
    public byte[] DataPrefix { get; set; } = [];

    /// <summary>
    /// Write repeated map values, array items and keys once and point to them, as MaxMind's writers do (their
    /// "data cache"); records then share sub-maps like country and names.
    /// </summary>
    public bool DeduplicateWithPointers { get; set; }

    /// <summary>Metadata entries replacing or adding to the standard ones (null removes a key).</summary>
    public Dictionary<string, object?> MetadataOverrides { get; } = [];

    /// <summary>Maps a prefix (e.g. "1.2.3.0/24", "2001:db8::/32") to a record; equal references share one record.</summary>
    public MmdbWriter Insert(string cidr, object record)
    {
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        var address = IPAddress.Parse(cidr[..slash]);
        var length = int.Parse(cidr[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var bytes = address.GetAddressBytes();
        if (bytes.Length == 4 && IpVersion == 6)
        {
            var v6 = new byte[16];
            bytes.CopyTo(v6, 12);
            bytes = v6;
            length += 96;
        }

        if (!_recordIndex.TryGetValue(record, out var index))
        {
            index = _records.Count;
            _records.Add(record);
            _recordIndex[record] = index;
        }

        Insert(bytes, length, index);
        return this;
    }

    public byte[] Build()
    {
        // Data section: the prefix, then each distinct record once.
        var data = new List<byte>(DataPrefix);
        var recordOffsets = new long[_records.Count];
        var written = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < _records.Count; i++)
        {
            if (DeduplicateWithPointers)
            {
                var encoded = EncodeShared(_records[i], data, written);
                recordOffsets[i] = data.Count;
                data.AddRange(encoded);
            }
            else
            {
                recordOffsets[i] = data.Count;
                Encode(data, _records[i]);
            }
        }

        // Number the nodes breadth-first.
        var nodes = new List<TrieNode>();
        var queue = new Queue<TrieNode>();
        queue.Enqueue(_root);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            node.Number = nodes.Count;
            nodes.Add(node);
            if (node.Left is not null)
            {
                queue.Enqueue(node.Left);
            }

            if (node.Right is not null)
            {
                queue.Enqueue(node.Right);
            }
        }

        var nodeCount = (uint)nodes.Count;
        var tree = new byte[nodes.Count * RecordSize / 4];
        foreach (var node in nodes)
        {
            var left = RecordValue(node.Left, node.LeftData, nodeCount, recordOffsets);
            var right = RecordValue(node.Right, node.RightData, nodeCount, recordOffsets);
            WriteNode(tree, node.Number, left, right);
        }

        var metadata = new List<KeyValuePair<string, object>>
        {
            new("node_count", nodeCount),
            new("record_size", (ushort)RecordSize),
            new("ip_version", (ushort)IpVersion),
            new("database_type", DatabaseType),
            new("languages", new object[] { "en" }),
            new("binary_format_major_version", (ushort)2),
            new("binary_format_minor_version", (ushort)0),
            new("build_epoch", 1_700_000_000UL),
            new("description", new Map(("en", "Synthetic test database"))),
        };
        foreach (var (key, value) in MetadataOverrides)
        {
            metadata.RemoveAll(e => e.Key == key);
            if (value is not null)
            {
                metadata.Add(new(key, value));
            }
        }

        var file = new List<byte>(tree);
        file.AddRange(new byte[16]);
        file.AddRange(data);
        file.AddRange(MetadataMarker);
        Encode(file, new Map([.. metadata]));
        return [.. file];
    }

    public static byte[] MetadataMarker => [0xAB, 0xCD, 0xEF, .. "MaxMind.com"u8];

    /// <summary>Encodes one value the way MaxMind writers do (minimal integer widths, extended types for 8-15).</summary>
    public static byte[] EncodeValue(object value)
    {
        var bytes = new List<byte>();
        Encode(bytes, value);
        return [.. bytes];
    }

    public static void Encode(List<byte> output, object value)
    {
        switch (value)
        {
            case Raw raw:
                output.AddRange(raw.Bytes);
                break;
            case Pointer pointer:
                output.AddRange(EncodePointer(pointer.Target, pointer.Form));
                break;
            case MmdbValue mmdb:
                Encode(output, FromMmdb(mmdb));
                break;
            case string s:
                var utf8 = Encoding.UTF8.GetBytes(s);
                Header(output, 2, utf8.Length);
                output.AddRange(utf8);
                break;
            case byte[] b:
                Header(output, 4, b.Length);
                output.AddRange(b);
                break;
            case double d:
                Header(output, 3, 8);
                var db = new byte[8];
                BinaryPrimitives.WriteDoubleBigEndian(db, d);
                output.AddRange(db);
                break;
            case float f:
                Header(output, 15, 4);
                var fb = new byte[4];
                BinaryPrimitives.WriteSingleBigEndian(fb, f);
                output.AddRange(fb);
                break;
            case bool flag:
                Header(output, 14, flag ? 1 : 0);
                break;
            case ushort u16:
                Unsigned(output, 5, u16);
                break;
            case uint u32:
                Unsigned(output, 6, u32);
                break;
            case int i32:
                var ib = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(ib, i32);
                Header(output, 8, 4);
                output.AddRange(ib);
                break;
            case ulong u64:
                Unsigned(output, 9, u64);
                break;
            case UInt128 u128:
                var wide = new byte[16];
                BinaryPrimitives.WriteUInt128BigEndian(wide, u128);
                var skip = 0;
                while (skip < 16 && wide[skip] == 0)
                {
                    skip++;
                }

                Header(output, 10, 16 - skip);
                output.AddRange(wide[skip..]);
                break;
            case Map map:
                Header(output, 7, map.Entries.Length);
                foreach (var (key, item) in map.Entries)
                {
                    Encode(output, key);
                    Encode(output, item);
                }

                break;
            case object[] array:
                Header(output, 11, array.Length);
                foreach (var item in array)
                {
                    Encode(output, item);
                }

                break;
            default:
                throw new ArgumentException($"Cannot encode {value.GetType()}.");
        }
    }

    /// <summary>Control byte(s) with the size encodings of spec 2.0 ("Payload Size").</summary>
    public static void Header(List<byte> output, int type, int size)
    {
        var typeBits = type <= 7 ? type << 5 : 0;
        var extra = new List<byte>();
        int sizeBits;
        if (size < 29)
        {
            sizeBits = size;
        }
        else if (size < 285)
        {
            sizeBits = 29;
            extra.Add((byte)(size - 29));
        }
        else if (size < 65821)
        {
            sizeBits = 30;
            var v = size - 285;
            extra.Add((byte)(v >> 8));
            extra.Add((byte)v);
        }
        else
        {
            sizeBits = 31;
            var v = size - 65821;
            extra.Add((byte)(v >> 16));
            extra.Add((byte)(v >> 8));
            extra.Add((byte)v);
        }

        output.Add((byte)(typeBits | sizeBits));
        if (type > 7)
        {
            output.Add((byte)(type - 7));
        }

        output.AddRange(extra);
    }

    /// <summary>A pointer of form 0-3 (spec 2.0, "Pointers"): 11, 19 (+2048), 27 (+526336) or 32 bits.</summary>
    public static byte[] EncodePointer(long target, int form)
    {
        switch (form)
        {
            case 0:
                Check(target, 0, 2047);
                return [(byte)(0x20 | (int)(target >> 8)), (byte)target];
            case 1:
                var v1 = target - 2048;
                Check(v1, 0, (1 << 19) - 1);
                return [(byte)(0x28 | (int)(v1 >> 16)), (byte)(v1 >> 8), (byte)v1];
            case 2:
                var v2 = target - 526336;
                Check(v2, 0, (1 << 27) - 1);
                return [(byte)(0x30 | (int)(v2 >> 24)), (byte)(v2 >> 16), (byte)(v2 >> 8), (byte)v2];
            default:
                Check(target, 0, uint.MaxValue);
                return [0x38, (byte)(target >> 24), (byte)(target >> 16), (byte)(target >> 8), (byte)target];
        }

        static void Check(long value, long min, long max)
        {
            if (value < min || value > max)
            {
                throw new ArgumentOutOfRangeException(nameof(target), $"{value} does not fit this pointer form.");
            }
        }
    }

    /// <summary>Converts a decoded value back into the writer's object model (for re-encoding real records).</summary>
    public static object FromMmdb(MmdbValue value) => value.Kind switch
    {
        MmdbValueKind.Map => new Map([.. value.Entries.Select(e => new KeyValuePair<string, object>(e.Key, FromMmdb(e.Value)))]),
        MmdbValueKind.Array => value.Items.Select(FromMmdb).ToArray(),
        MmdbValueKind.String => value.AsString(),
        MmdbValueKind.Bytes => value.AsBytes().ToArray(),
        MmdbValueKind.Boolean => value.AsBoolean(),
        MmdbValueKind.Double => value.AsDouble(),
        MmdbValueKind.Float => value.AsFloat(),
        MmdbValueKind.Int32 => (int)value.AsInt64(),
        MmdbValueKind.UInt16 => (ushort)value.AsUInt64(),
        MmdbValueKind.UInt32 => (uint)value.AsUInt64(),
        MmdbValueKind.UInt64 => value.AsUInt64(),
        _ => value.AsUInt128(),
    };

    /// <summary>
    /// Encodes a record whose children (keys, map values, array items) are written to the data section once and
    /// referenced by pointer wherever they repeat. Returns the record's own bytes; children are already in <paramref name="data"/>.
    /// </summary>
    private static byte[] EncodeShared(object value, List<byte> data, Dictionary<string, int> written)
    {
        var output = new List<byte>();
        switch (value)
        {
            case Map map:
                Header(output, 7, map.Entries.Length);
                foreach (var (key, item) in map.Entries)
                {
                    output.AddRange(Shared(key, data, written));
                    output.AddRange(Shared(item, data, written));
                }

                break;
            case object[] array:
                Header(output, 11, array.Length);
                foreach (var item in array)
                {
                    output.AddRange(Shared(item, data, written));
                }

                break;
            default:
                Encode(output, value);
                break;
        }

        return [.. output];
    }

    private static byte[] Shared(object value, List<byte> data, Dictionary<string, int> written)
    {
        var encoded = EncodeShared(value, data, written);
        if (encoded.Length < 4)
        {
            return encoded;
        }

        var key = Convert.ToHexString(encoded);
        if (!written.TryGetValue(key, out var offset))
        {
            offset = data.Count;
            data.AddRange(encoded);
            written[key] = offset;
        }

        return EncodePointer(offset, offset < 2048 ? 0 : offset < 526336 ? 1 : offset < 526336 + (1 << 27) ? 2 : 3);
    }

    private static void Unsigned(List<byte> output, int type, ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        var skip = 0;
        while (skip < 8 && bytes[skip] == 0)
        {
            skip++;
        }

        Header(output, type, 8 - skip);
        output.AddRange(bytes[skip..]);
    }

    private void Insert(byte[] address, int length, int record)
    {
        var node = _root;
        for (var depth = 0; depth < length - 1; depth++)
        {
            var bit = (address[depth >> 3] >> (7 - (depth & 7))) & 1;
            node = bit == 0 ? node.LeftChild() : node.RightChild();
        }

        var last = (address[(length - 1) >> 3] >> (7 - ((length - 1) & 7))) & 1;
        if (last == 0)
        {
            node.Left = null;
            node.LeftData = record;
        }
        else
        {
            node.Right = null;
            node.RightData = record;
        }
    }

    private static ulong RecordValue(TrieNode? child, int? data, uint nodeCount, long[] recordOffsets) =>
        child is not null ? (ulong)child.Number
        : data is { } index ? nodeCount + 16UL + (ulong)recordOffsets[index]
        : nodeCount;

    private void WriteNode(byte[] tree, int number, ulong left, ulong right)
    {
        var max = RecordSize == 32 ? uint.MaxValue : (1UL << RecordSize) - 1;
        if (left > max || right > max)
        {
            throw new InvalidOperationException($"Record value does not fit in {RecordSize} bits.");
        }

        var offset = number * RecordSize / 4;
        switch (RecordSize)
        {
            case 24:
                tree[offset] = (byte)(left >> 16);
                tree[offset + 1] = (byte)(left >> 8);
                tree[offset + 2] = (byte)left;
                tree[offset + 3] = (byte)(right >> 16);
                tree[offset + 4] = (byte)(right >> 8);
                tree[offset + 5] = (byte)right;
                break;
            case 28:
                tree[offset] = (byte)(left >> 16);
                tree[offset + 1] = (byte)(left >> 8);
                tree[offset + 2] = (byte)left;
                tree[offset + 3] = (byte)(((left >> 20) & 0xF0) | ((right >> 24) & 0x0F));
                tree[offset + 4] = (byte)(right >> 16);
                tree[offset + 5] = (byte)(right >> 8);
                tree[offset + 6] = (byte)right;
                break;
            default:
                BinaryPrimitives.WriteUInt32BigEndian(tree.AsSpan(offset), (uint)left);
                BinaryPrimitives.WriteUInt32BigEndian(tree.AsSpan(offset + 4), (uint)right);
                break;
        }
    }

    private sealed class TrieNode
    {
        public TrieNode? Left { get; set; }

        public TrieNode? Right { get; set; }

        public int? LeftData { get; set; }

        public int? RightData { get; set; }

        public int Number { get; set; }

        // A record that is split by a more specific insert becomes a node whose both halves keep the old record.
        public TrieNode LeftChild() => Left ??= new TrieNode { LeftData = LeftData, RightData = LeftData };

        public TrieNode RightChild() => Right ??= new TrieNode { LeftData = RightData, RightData = RightData };
    }
}

/// <summary>An ordered map for <see cref="MmdbWriter"/>.</summary>
internal sealed class Map(params KeyValuePair<string, object>[] entries)
{
    public Map(params (string Key, object Value)[] entries)
        : this([.. entries.Select(e => new KeyValuePair<string, object>(e.Key, e.Value))])
    {
    }

    public KeyValuePair<string, object>[] Entries { get; } = entries;
}

/// <summary>Bytes written verbatim (for hostile encodings).</summary>
internal sealed record Raw(byte[] Bytes);

/// <summary>A pointer to a data-section offset, in a chosen form (0-3).</summary>
internal sealed record Pointer(long Target, int Form);
