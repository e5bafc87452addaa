using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace ExposureIndex.GeoIp;

/// <summary>
/// Layer 3 of the reader: decodes the data section (or the metadata map) of MaxMind DB format 2.0
/// ("Output Data Section"). Offsets are relative to the section start, and so are pointers: the data
/// section for records, the byte after the metadata marker for metadata.
/// Hostile input is contained by four limits: every read is checked against the section end; containers
/// and pointers nest at most <see cref="MaxDepth"/> levels (catches pointer cycles through containers); a
/// map or array may not claim more items than the bytes left could hold (no huge allocations from a
/// length field); and one decode materialises at most <see cref="MaxValues"/> values and
/// <see cref="MaxPayloadBytes"/> string/bytes payload (pointer fan-out and payload amplification, the
/// limits libmaxminddb recommends).
/// </summary>
internal sealed class MmdbDecoder
{
    public const int MaxDepth = 512;
    public const int MaxValues = 1 << 16;
    public const long MaxPayloadBytes = 2L * 1024 * 1024;

    // Wire type numbers (spec: "Output Data Section").
    public const int TypeExtended = 0;
    public const int TypePointer = 1;
    public const int TypeString = 2;
    public const int TypeDouble = 3;
    public const int TypeBytes = 4;
    public const int TypeUInt16 = 5;
    public const int TypeUInt32 = 6;
    public const int TypeMap = 7;
    public const int TypeInt32 = 8;
    public const int TypeUInt64 = 9;
    public const int TypeUInt128 = 10;
    public const int TypeArray = 11;
    public const int TypeContainer = 12;
    public const int TypeEndMarker = 13;
    public const int TypeBoolean = 14;
    public const int TypeFloat = 15;

    private readonly MmdbBuffer _buffer;
    private readonly long _start;
    private readonly MmdbSection _section;
    private readonly OffsetCache<string> _keys = new(1024);

    public MmdbDecoder(MmdbBuffer buffer, long start, long size, MmdbSection section)
    {
        _buffer = buffer;
        _start = start;
        Size = size;
        _section = section;
    }

    /// <summary>The section length in bytes.</summary>
    public long Size { get; }

    public static string TypeName(int type) => type switch
    {
        TypePointer => "pointer",
        TypeString => "UTF-8 string",
        TypeDouble => "double",
        TypeBytes => "bytes",
        TypeUInt16 => "uint16",
        TypeUInt32 => "uint32",
        TypeMap => "map",
        TypeInt32 => "int32",
        TypeUInt64 => "uint64",
        TypeUInt128 => "uint128",
        TypeArray => "array",
        TypeContainer => "data cache container",
        TypeEndMarker => "end marker",
        TypeBoolean => "boolean",
        TypeFloat => "float",
        _ => $"type {type}",
    };

    /// <summary>Decodes the whole value at <paramref name="offset"/> under a fresh budget.</summary>
    public MmdbValue Decode(long offset)
    {
        var budget = default(DecodeBudget);
        var position = offset;
        return DecodeAny(ref position, 0, ref budget);
    }

    public MmdbValue DecodeAny(ref long offset, int depth, ref DecodeBudget budget)
    {
        var start = offset;
        var type = ReadControl(start, out var size, out var payload);
        if (type != TypePointer)
        {
            return DecodeValue(start, type, size, payload, depth, ref budget, out offset);
        }

        // A pointer occupies only its own bytes here; decoding continues after it.
        offset = payload;
        var target = PointerTarget(start, size);
        var targetType = ReadControl(target, out var targetSize, out var targetPayload);
        return DecodeValue(target, targetType, targetSize, targetPayload, depth, ref budget, out _);
    }

    /// <summary>
    /// Reads the control byte(s) at <paramref name="offset"/>: the type, the payload size (for a pointer: the
    /// pointer value) and where the payload starts. Extended types and the 29/30/31 size forms are resolved.
    /// </summary>
    public int ReadControl(long offset, out long size, out long payload)
    {
        var control = ByteAt(offset, offset);
        var position = offset + 1;
        var type = control >> 5;
        if (type == TypePointer)
        {
            // 001SSVVV: SS selects 1-4 further bytes; sizes 1 and 2 add the ranges the shorter forms cover.
            var sizeBits = (control >> 3) & 0x3;
            var bytes = Bytes(position, sizeBits + 1, offset, "pointer");
            var high = (long)(control & 0x7);
            size = sizeBits switch
            {
                0 => (high << 8) | bytes[0],
                1 => ((high << 16) | ((long)bytes[0] << 8) | bytes[1]) + 2048,
                2 => ((high << 24) | ((long)bytes[0] << 16) | ((long)bytes[1] << 8) | bytes[2]) + 526336,
                _ => BinaryPrimitives.ReadUInt32BigEndian(bytes),
            };
            payload = position + sizeBits + 1;
            return TypePointer;
        }

        if (type == TypeExtended)
        {
            var extended = ByteAt(position, offset);
            position++;
            type = 7 + extended;
            if (type < TypeInt32 || type > TypeFloat)
            {
                throw Corrupt(offset, $"extended type byte {extended} names type {type}, which is not an extended type (8-15)");
            }
        }

        size = control & 0x1F;
        if (size >= 29)
        {
            var count = (int)size - 28;
            var bytes = Bytes(position, count, offset, "size");
            size = count switch
            {
                1 => 29 + bytes[0],
                2 => 285 + ((bytes[0] << 8) | bytes[1]),
                _ => 65821 + ((bytes[0] << 16) | (bytes[1] << 8) | bytes[2]),
            };
            position += count;
        }

        payload = position;
        return type;
    }

    /// <summary>Resolves a pointer's value to a section offset, rejecting targets outside the section.</summary>
    public long PointerTarget(long pointerOffset, long value)
    {
        if (value >= Size)
        {
            throw Corrupt(pointerOffset, $"pointer to offset {value} is outside the {Describe()} ({Size} bytes)");
        }

        // Spec: "It is illegal for a pointer to point to another pointer." This also rules out pointer-only loops.
        var control = ByteAt(value, pointerOffset);
        if (control >> 5 == TypePointer)
        {
            throw Corrupt(pointerOffset, $"pointer to offset {value} points to another pointer");
        }

        return value;
    }

    /// <summary>
    /// Returns the offset just past the value at <paramref name="offset"/> without materialising it and without
    /// following pointers (so the work is bounded by the bytes skipped). Checks sizes and bounds as it goes.
    /// </summary>
    public long Skip(long offset, int depth, ref DecodeBudget budget)
    {
        var type = ReadControl(offset, out var size, out var payload);
        budget.Count(this, offset, 1);
        switch (type)
        {
            case TypePointer:
                return payload;
            case TypeMap:
            case TypeArray:
                var items = type == TypeMap ? size * 2 : size;
                CheckContainer(offset, type, size, payload, depth, ref budget, charge: false);
                var position = payload;
                for (long i = 0; i < items; i++)
                {
                    position = Skip(position, depth + 1, ref budget);
                }

                return position;
            default:
                return End(offset, type, size, payload);
        }
    }

    /// <summary>Resolves one pointer (if any) and returns the control of the value it designates.</summary>
    public int ReadResolved(long offset, out long valueOffset, out long size, out long payload)
    {
        var type = ReadControl(offset, out size, out payload);
        if (type != TypePointer)
        {
            valueOffset = offset;
            return type;
        }

        valueOffset = PointerTarget(offset, size);
        return ReadControl(valueOffset, out size, out payload);
    }

    /// <summary>Reads a map key (an inline string or a pointer to one) and returns its UTF-8 bytes; advances past it.</summary>
    public ReadOnlySpan<byte> ReadKeyBytes(scoped ref long offset, scoped ref DecodeBudget budget)
    {
        var start = offset;
        var type = ReadResolved(start, out var keyOffset, out var size, out var payload);
        if (type != TypeString)
        {
            throw Corrupt(start, $"map key is a {TypeName(type)}, not a UTF-8 string");
        }

        budget.Count(this, start, 1);
        var bytes = Bytes(payload, size, keyOffset, "string");
        offset = keyOffset == start ? payload + size : NextAfterPointer(start);
        return bytes;
    }

    /// <summary>Decodes a string at <paramref name="offset"/> (after resolving a pointer), or returns null for another type.</summary>
    public string? ReadStringOrNull(long offset, ref DecodeBudget budget)
    {
        var type = ReadResolved(offset, out var valueOffset, out var size, out var payload);
        if (type != TypeString)
        {
            // Still check the value is well-formed, so that a corrupt field is never silently ignored.
            CheckScalar(valueOffset, type, size, payload);
            return null;
        }

        budget.Payload(this, valueOffset, size);
        return DecodeString(valueOffset, size, payload);
    }

    /// <summary>Reads a numeric value (any integer, float or double) as a double; false for other types.</summary>
    public bool TryReadNumber(long offset, out double value)
    {
        var type = ReadResolved(offset, out var valueOffset, out var size, out var payload);
        CheckScalar(valueOffset, type, size, payload);
        switch (type)
        {
            case TypeDouble:
                value = BinaryPrimitives.ReadDoubleBigEndian(Bytes(payload, 8, valueOffset, "double"));
                return true;
            case TypeFloat:
                value = BinaryPrimitives.ReadSingleBigEndian(Bytes(payload, 4, valueOffset, "float"));
                return true;
            case TypeUInt16:
            case TypeUInt32:
            case TypeUInt64:
                value = ReadUnsigned(payload, size, valueOffset);
                return true;
            case TypeInt32:
                value = unchecked((int)(uint)ReadUnsigned(payload, size, valueOffset));
                return true;
            default:
                value = 0;
                return false;
        }
    }

    /// <summary>Reads an unsigned integer (uint16/32/64, or a non-negative int32); false for other types.</summary>
    public bool TryReadUnsigned(long offset, out ulong value)
    {
        var type = ReadResolved(offset, out var valueOffset, out var size, out var payload);
        CheckScalar(valueOffset, type, size, payload);
        switch (type)
        {
            case TypeUInt16:
            case TypeUInt32:
            case TypeUInt64:
                value = ReadUnsigned(payload, size, valueOffset);
                return true;
            case TypeInt32:
                var signed = unchecked((int)(uint)ReadUnsigned(payload, size, valueOffset));
                value = signed >= 0 ? (ulong)signed : 0;
                return signed >= 0;
            default:
                value = 0;
                return false;
        }
    }

    /// <summary>Opens the map at <paramref name="offset"/> (after resolving a pointer) for key-by-key reading.</summary>
    public bool TryOpenMap(long offset, int depth, ref DecodeBudget budget, out MapReader map)
    {
        var type = ReadResolved(offset, out var valueOffset, out var size, out var payload);
        if (type != TypeMap)
        {
            CheckScalar(valueOffset, type, size, payload);
            map = default;
            return false;
        }

        CheckContainer(valueOffset, type, size, payload, depth, ref budget, charge: false);
        map = new MapReader(this, payload, size, depth);
        return true;
    }

    /// <summary>Opens the array at <paramref name="offset"/> (after resolving a pointer) for item-by-item reading.</summary>
    public bool TryOpenArray(long offset, int depth, ref DecodeBudget budget, out ArrayReader array)
    {
        var type = ReadResolved(offset, out var valueOffset, out var size, out var payload);
        if (type != TypeArray)
        {
            CheckScalar(valueOffset, type, size, payload);
            array = default;
            return false;
        }

        CheckContainer(valueOffset, type, size, payload, depth, ref budget, charge: false);
        array = new ArrayReader(this, payload, size, depth);
        return true;
    }

    internal MmdbFormatException Corrupt(long offset, string problem) => MmdbFormatException.At(_section, offset, problem);

    private MmdbValue DecodeValue(long start, int type, long size, long payload, int depth, ref DecodeBudget budget, out long end)
    {
        budget.Count(this, start, 1);
        if (type == TypeMap)
        {
            return DecodeMap(start, size, payload, depth, ref budget, out end);
        }

        if (type == TypeArray)
        {
            return DecodeArray(start, size, payload, depth, ref budget, out end);
        }

        end = End(start, type, size, payload);
        switch (type)
        {
            case TypeString:
                budget.Payload(this, start, size);
                return MmdbValue.FromString(DecodeString(start, size, payload));
            case TypeBytes:
                budget.Payload(this, start, size);
                return MmdbValue.FromBytes(Bytes(payload, size, start, "bytes value").ToArray());
            case TypeDouble:
                CheckFixedSize(start, type, size, 8);
                return MmdbValue.FromDouble(BinaryPrimitives.ReadDoubleBigEndian(Bytes(payload, 8, start, "double")));
            case TypeFloat:
                CheckFixedSize(start, type, size, 4);
                return MmdbValue.FromFloat(BinaryPrimitives.ReadSingleBigEndian(Bytes(payload, 4, start, "float")));
            case TypeUInt16:
                CheckMaxSize(start, type, size, 2);
                return MmdbValue.FromUnsigned(MmdbValueKind.UInt16, ReadUnsigned(payload, size, start));
            case TypeUInt32:
                CheckMaxSize(start, type, size, 4);
                return MmdbValue.FromUnsigned(MmdbValueKind.UInt32, ReadUnsigned(payload, size, start));
            case TypeInt32:
                // Spec: 2's complement in 0-4 bytes. Like libmaxminddb, fewer than 4 bytes are read as the low bytes.
                CheckMaxSize(start, type, size, 4);
                return MmdbValue.FromInt32(unchecked((int)(uint)ReadUnsigned(payload, size, start)));
            case TypeUInt64:
                CheckMaxSize(start, type, size, 8);
                return MmdbValue.FromUnsigned(MmdbValueKind.UInt64, ReadUnsigned(payload, size, start));
            case TypeUInt128:
                CheckMaxSize(start, type, size, 16);
                var bytes = Bytes(payload, size, start, "uint128");
                UInt128 wide = 0;
                foreach (var b in bytes)
                {
                    wide = (wide << 8) | b;
                }

                return MmdbValue.FromUInt128(wide);
            case TypeBoolean:
                CheckMaxSize(start, type, size, 1);
                return MmdbValue.FromBoolean(size == 1);
            case TypePointer:
                // Only reachable through ReadControl at a pointer target, which PointerTarget already rejects.
                throw Corrupt(start, "pointer where a value was expected");
            default:
                throw Corrupt(start, $"a {TypeName(type)} cannot appear as a value");
        }
    }

    private MmdbValue DecodeMap(long start, long size, long payload, int depth, ref DecodeBudget budget, out long end)
    {
        CheckContainer(start, TypeMap, size, payload, depth, ref budget, charge: true);
        var entries = new KeyValuePair<string, MmdbValue>[size];
        var position = payload;
        for (var i = 0; i < entries.Length; i++)
        {
            var key = DecodeKey(ref position, ref budget);
            var value = DecodeAny(ref position, depth + 1, ref budget);
            entries[i] = new KeyValuePair<string, MmdbValue>(key, value);
        }

        end = position;
        return MmdbValue.FromMap(entries);
    }

    private MmdbValue DecodeArray(long start, long size, long payload, int depth, ref DecodeBudget budget, out long end)
    {
        CheckContainer(start, TypeArray, size, payload, depth, ref budget, charge: true);
        var items = new MmdbValue[size];
        var position = payload;
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = DecodeAny(ref position, depth + 1, ref budget);
        }

        end = position;
        return MmdbValue.FromArray(items);
    }

    private string DecodeKey(ref long offset, ref DecodeBudget budget)
    {
        var start = offset;
        var type = ReadResolved(start, out var keyOffset, out var size, out var payload);
        if (type != TypeString)
        {
            throw Corrupt(start, $"map key is a {TypeName(type)}, not a UTF-8 string");
        }

        budget.Count(this, start, 1);
        budget.Payload(this, keyOffset, size);
        offset = keyOffset == start ? End(start, type, size, payload) : NextAfterPointer(start);

        // Keys repeat in every record (and usually live behind pointers), so they are interned by offset.
        if (_keys.TryGet(keyOffset, out var cached))
        {
            return cached;
        }

        var key = DecodeString(keyOffset, size, payload);
        _keys.Set(keyOffset, key);
        return key;
    }

    private string DecodeString(long start, long size, long payload)
    {
        var bytes = Bytes(payload, size, start, "string");
        if (!Utf8.IsValid(bytes))
        {
            throw Corrupt(start, "string is not valid UTF-8");
        }

        return Encoding.UTF8.GetString(bytes);
    }

    private void CheckContainer(long start, int type, long size, long payload, int depth, ref DecodeBudget budget, bool charge)
    {
        if (depth >= MaxDepth)
        {
            throw Corrupt(start, $"data nests deeper than {MaxDepth} levels (a pointer cycle, or hostile nesting)");
        }

        // Every key and every value takes at least one byte, so the count is capped by the bytes left.
        var minimumBytes = type == TypeMap ? size * 2 : size;
        var left = Size - payload;
        if (minimumBytes > left)
        {
            var unit = type == TypeMap ? "pairs" : "items";
            throw Corrupt(start, $"{TypeName(type)} of {size} {unit} cannot fit in the {left} bytes left in the {Describe()}");
        }

        if (charge)
        {
            budget.Reserve(this, start, type == TypeMap ? size * 2 : size);
        }
    }

    /// <summary>The offset after a value whose control was read; checks fixed sizes and that the payload is inside the section.</summary>
    private long End(long start, int type, long size, long payload)
    {
        switch (type)
        {
            case TypeMap:
            case TypeArray:
                throw new InvalidOperationException("Containers have no fixed end; skip them item by item.");
            case TypePointer:
                return payload;
            case TypeBoolean:
                CheckMaxSize(start, type, size, 1);
                return payload;
            case TypeDouble:
                CheckFixedSize(start, type, size, 8);
                break;
            case TypeFloat:
                CheckFixedSize(start, type, size, 4);
                break;
            case TypeUInt16:
                CheckMaxSize(start, type, size, 2);
                break;
            case TypeUInt32:
            case TypeInt32:
                CheckMaxSize(start, type, size, 4);
                break;
            case TypeUInt64:
                CheckMaxSize(start, type, size, 8);
                break;
            case TypeUInt128:
                CheckMaxSize(start, type, size, 16);
                break;
            case TypeString:
            case TypeBytes:
                break;
            default:
                throw Corrupt(start, $"a {TypeName(type)} cannot appear as a value");
        }

        Bytes(payload, size, start, TypeName(type));
        return payload + size;
    }

    /// <summary>Checks a non-container value's size and bounds; containers are checked when they are opened.</summary>
    private void CheckScalar(long start, int type, long size, long payload)
    {
        if (type != TypeMap && type != TypeArray)
        {
            End(start, type, size, payload);
        }
    }

    private long NextAfterPointer(long pointerOffset)
    {
        ReadControl(pointerOffset, out _, out var payload);
        return payload;
    }

    private void CheckFixedSize(long start, int type, long size, int expected)
    {
        if (size != expected)
        {
            throw Corrupt(start, $"{TypeName(type)} has size {size}; it must be {expected} bytes");
        }
    }

    private void CheckMaxSize(long start, int type, long size, int maximum)
    {
        if (size > maximum)
        {
            throw Corrupt(start, $"{TypeName(type)} has size {size}; it may be at most {maximum} bytes");
        }
    }

    private ulong ReadUnsigned(long payload, long size, long start)
    {
        ulong value = 0;
        foreach (var b in Bytes(payload, size, start, "integer"))
        {
            value = (value << 8) | b;
        }

        return value;
    }

    private byte ByteAt(long offset, long valueStart)
    {
        if (offset < 0 || offset >= Size)
        {
            throw Corrupt(valueStart, $"value runs past the end of the {Describe()} ({Size} bytes)");
        }

        return _buffer[_start + offset];
    }

    private ReadOnlySpan<byte> Bytes(long offset, long length, long valueStart, string what)
    {
        if (offset < 0 || length < 0 || offset > Size || length > Size - offset
            || !_buffer.TrySlice(_start + offset, length, out var span))
        {
            var left = Math.Max(0, Size - offset);
            throw Corrupt(valueStart, $"{what} of {length} bytes runs past the end of the {Describe()} ({left} bytes left)");
        }

        return span;
    }

    private string Describe() => MmdbFormatException.Describe(_section);

    /// <summary>Per-decode work and memory limits (see the class comment).</summary>
    internal struct DecodeBudget
    {
        private long _values;
        private long _payload;

        public void Count(MmdbDecoder decoder, long offset, long values)
        {
            _values += values;
            if (_values > MaxValues)
            {
                throw decoder.Corrupt(offset, $"record decodes to more than {MaxValues} values (decoder limit; pointer fan-out?)");
            }
        }

        /// <summary>Checks, before allocating, that a container's items would still fit in the value limit.</summary>
        public readonly void Reserve(MmdbDecoder decoder, long offset, long values)
        {
            if (_values + values > MaxValues)
            {
                throw decoder.Corrupt(offset, $"record decodes to more than {MaxValues} values (decoder limit)");
            }
        }

        public void Payload(MmdbDecoder decoder, long offset, long bytes)
        {
            _payload += bytes;
            if (_payload > MaxPayloadBytes)
            {
                throw decoder.Corrupt(offset, $"record decodes to more than {MaxPayloadBytes} bytes of strings and bytes (decoder limit; payload amplification?)");
            }
        }
    }

    /// <summary>Key-by-key reader over a map; values are returned as offsets and skipped unless the caller reads them.</summary>
    internal struct MapReader(MmdbDecoder decoder, long position, long remaining, int depth)
    {
        private long _position = position;
        private long _remaining = remaining;

        public readonly int Depth => depth;

        public bool Next(ref DecodeBudget budget, out ReadOnlySpan<byte> key, out long valueOffset)
        {
            if (_remaining <= 0)
            {
                key = default;
                valueOffset = 0;
                return false;
            }

            _remaining--;
            key = decoder.ReadKeyBytes(ref _position, ref budget);
            valueOffset = _position;
            _position = decoder.Skip(_position, depth + 1, ref budget);
            return true;
        }
    }

    /// <summary>Item-by-item reader over an array.</summary>
    internal struct ArrayReader(MmdbDecoder decoder, long position, long remaining, int depth)
    {
        private long _position = position;
        private long _remaining = remaining;

        public readonly int Depth => depth;

        public bool Next(ref DecodeBudget budget, out long itemOffset)
        {
            if (_remaining <= 0)
            {
                itemOffset = 0;
                return false;
            }

            _remaining--;
            itemOffset = _position;
            _position = decoder.Skip(_position, depth + 1, ref budget);
            return true;
        }
    }
}
