using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace ExposureIndex.GeoIp;

/// <summary>
/// The kind of a decoded MMDB value. The numbers are the wire type numbers of the MaxMind DB spec 2.0
/// ("Output Data Section"), so they are stable and append-only.
/// </summary>
public enum MmdbValueKind
{
    String = 2,
    Double = 3,
    Bytes = 4,
    UInt16 = 5,
    UInt32 = 6,
    Map = 7,
    Int32 = 8,
    UInt64 = 9,
    UInt128 = 10,
    Array = 11,
    Boolean = 14,
    Float = 15,
}

/// <summary>
/// An immutable decoded MMDB value: map, array, string, bytes, boolean, double, float or one of the integer
/// types (the wire type is kept in <see cref="Kind"/>). Maps keep the key order of the file.
/// Instances may be shared between lookups (record cache) and between threads.
/// </summary>
public sealed class MmdbValue : IEquatable<MmdbValue>
{
    private const int LinearMapSearchLimit = 8;

    private static readonly MmdbValue TrueValue = new(MmdbValueKind.Boolean, 1, null);
    private static readonly MmdbValue FalseValue = new(MmdbValueKind.Boolean, 0, null);

    private readonly ulong _scalar;
    private readonly object? _ref;
    private Dictionary<string, int>? _index;

    private MmdbValue(MmdbValueKind kind, ulong scalar, object? reference)
    {
        Kind = kind;
        _scalar = scalar;
        _ref = reference;
    }

    public MmdbValueKind Kind { get; }

    public bool IsMap => Kind == MmdbValueKind.Map;

    public bool IsArray => Kind == MmdbValueKind.Array;

    /// <summary>The number of pairs of a map or items of an array; 0 for scalars.</summary>
    public int Count => _ref switch
    {
        KeyValuePair<string, MmdbValue>[] entries => entries.Length,
        MmdbValue[] items => items.Length,
        _ => 0,
    };

    /// <summary>The pairs of a map in file order (empty for other kinds).</summary>
    public IReadOnlyList<KeyValuePair<string, MmdbValue>> Entries => _ref as KeyValuePair<string, MmdbValue>[] ?? [];

    /// <summary>The items of an array (empty for other kinds).</summary>
    public IReadOnlyList<MmdbValue> Items => _ref as MmdbValue[] ?? [];

    /// <summary>The value of <paramref name="key"/> in a map.</summary>
    /// <exception cref="KeyNotFoundException">Not a map, or no such key.</exception>
    public MmdbValue this[string key] =>
        TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The MMDB {Kind} has no key '{key}'.");

    /// <summary>The item at <paramref name="index"/> of an array.</summary>
    public MmdbValue this[int index] => _ref is MmdbValue[] items
        ? items[index]
        : throw new InvalidOperationException($"An MMDB {Kind} is not an array.");

    internal static MmdbValue FromBoolean(bool value) => value ? TrueValue : FalseValue;

    internal static MmdbValue FromString(string value) => new(MmdbValueKind.String, 0, value);

    internal static MmdbValue FromBytes(byte[] value) => new(MmdbValueKind.Bytes, 0, value);

    internal static MmdbValue FromDouble(double value) => new(MmdbValueKind.Double, BitConverter.DoubleToUInt64Bits(value), null);

    internal static MmdbValue FromFloat(float value) => new(MmdbValueKind.Float, BitConverter.SingleToUInt32Bits(value), null);

    internal static MmdbValue FromInt32(int value) => new(MmdbValueKind.Int32, unchecked((ulong)(long)value), null);

    internal static MmdbValue FromUnsigned(MmdbValueKind kind, ulong value) => new(kind, value, null);

    internal static MmdbValue FromUInt128(UInt128 value) => new(MmdbValueKind.UInt128, 0, value);

    internal static MmdbValue FromArray(MmdbValue[] items) => new(MmdbValueKind.Array, 0, items);

    internal static MmdbValue FromMap(KeyValuePair<string, MmdbValue>[] entries) => new(MmdbValueKind.Map, 0, entries);

    public bool TryGetValue(string key, [NotNullWhen(true)] out MmdbValue? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_ref is not KeyValuePair<string, MmdbValue>[] entries)
        {
            value = null;
            return false;
        }

        if (entries.Length <= LinearMapSearchLimit)
        {
            foreach (var entry in entries)
            {
                if (string.Equals(entry.Key, key, StringComparison.Ordinal))
                {
                    value = entry.Value;
                    return true;
                }
            }

            value = null;
            return false;
        }

        var index = Volatile.Read(ref _index) ?? BuildIndex(entries);
        if (index.TryGetValue(key, out var position))
        {
            value = entries[position].Value;
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>Follows map keys and array indexes (decimal strings) from this value.</summary>
    public bool TryGetPath([NotNullWhen(true)] out MmdbValue? value, params ReadOnlySpan<string> path)
    {
        var current = this;
        foreach (var step in path)
        {
            if (current.Kind == MmdbValueKind.Array)
            {
                if (!int.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= current.Count)
                {
                    value = null;
                    return false;
                }

                current = current[index];
            }
            else if (!current.TryGetValue(step, out current))
            {
                value = null;
                return false;
            }
        }

        value = current;
        return true;
    }

    /// <summary>The string at <paramref name="path"/>, or null when absent or not a string.</summary>
    public string? GetString(params ReadOnlySpan<string> path) =>
        TryGetPath(out var value, path) && value.Kind == MmdbValueKind.String ? (string)value._ref! : null;

    public string AsString() => Kind == MmdbValueKind.String ? (string)_ref! : throw NotA("string");

    public bool AsBoolean() => Kind == MmdbValueKind.Boolean ? _scalar != 0 : throw NotA("boolean");

    /// <summary>The bytes of a bytes value (a read-only view; the value stays immutable).</summary>
    public ReadOnlyMemory<byte> AsBytes() => Kind == MmdbValueKind.Bytes ? (byte[])_ref! : throw NotA("bytes value");

    /// <summary>A double, float or integer value as a double.</summary>
    public double AsDouble() => Kind switch
    {
        MmdbValueKind.Double => BitConverter.UInt64BitsToDouble(_scalar),
        MmdbValueKind.Float => BitConverter.UInt32BitsToSingle((uint)_scalar),
        MmdbValueKind.Int32 => (int)(long)_scalar,
        MmdbValueKind.UInt16 or MmdbValueKind.UInt32 or MmdbValueKind.UInt64 => _scalar,
        MmdbValueKind.UInt128 => (double)(UInt128)_ref!,
        _ => throw NotA("number"),
    };

    public float AsFloat() => Kind == MmdbValueKind.Float ? BitConverter.UInt32BitsToSingle((uint)_scalar) : (float)AsDouble();

    /// <summary>Any integer kind as a long.</summary>
    /// <exception cref="OverflowException">The value does not fit.</exception>
    public long AsInt64() => Kind switch
    {
        MmdbValueKind.Int32 => (int)(long)_scalar,
        MmdbValueKind.UInt16 or MmdbValueKind.UInt32 => (long)_scalar,
        MmdbValueKind.UInt64 => checked((long)_scalar),
        MmdbValueKind.UInt128 => checked((long)(UInt128)_ref!),
        _ => throw NotA("integer"),
    };

    /// <summary>Any non-negative integer kind as a ulong.</summary>
    /// <exception cref="OverflowException">The value does not fit.</exception>
    public ulong AsUInt64() => Kind switch
    {
        MmdbValueKind.Int32 => checked((ulong)(int)(long)_scalar),
        MmdbValueKind.UInt16 or MmdbValueKind.UInt32 or MmdbValueKind.UInt64 => _scalar,
        MmdbValueKind.UInt128 => checked((ulong)(UInt128)_ref!),
        _ => throw NotA("integer"),
    };

    public UInt128 AsUInt128() => Kind == MmdbValueKind.UInt128 ? (UInt128)_ref! : AsUInt64();

    public BigInteger AsBigInteger() => Kind switch
    {
        MmdbValueKind.UInt128 => (BigInteger)(UInt128)_ref!,
        MmdbValueKind.Int32 => new BigInteger(AsInt64()),
        _ => new BigInteger(AsUInt64()),
    };

    public bool Equals(MmdbValue? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other.Kind != Kind || other._scalar != _scalar)
        {
            return false;
        }

        switch (_ref)
        {
            case null:
                return other._ref is null;
            case string s:
                return string.Equals(s, other._ref as string, StringComparison.Ordinal);
            case byte[] b:
                return other._ref is byte[] ob && b.AsSpan().SequenceEqual(ob);
            case UInt128 u:
                return other._ref is UInt128 ou && u == ou;
            case MmdbValue[] items:
                if (other._ref is not MmdbValue[] otherItems || otherItems.Length != items.Length)
                {
                    return false;
                }

                for (var i = 0; i < items.Length; i++)
                {
                    if (!items[i].Equals(otherItems[i]))
                    {
                        return false;
                    }
                }

                return true;
            case KeyValuePair<string, MmdbValue>[] entries:
                if (other._ref is not KeyValuePair<string, MmdbValue>[] otherEntries || otherEntries.Length != entries.Length)
                {
                    return false;
                }

                for (var i = 0; i < entries.Length; i++)
                {
                    if (!string.Equals(entries[i].Key, otherEntries[i].Key, StringComparison.Ordinal) || !entries[i].Value.Equals(otherEntries[i].Value))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return false;
        }
    }

    public override bool Equals(object? obj) => Equals(obj as MmdbValue);

    public override int GetHashCode() => _ref switch
    {
        string s => HashCode.Combine(Kind, s),
        MmdbValue[] items => HashCode.Combine(Kind, items.Length),
        KeyValuePair<string, MmdbValue>[] entries => HashCode.Combine(Kind, entries.Length),
        byte[] b => HashCode.Combine(Kind, b.Length),
        UInt128 u => HashCode.Combine(Kind, u),
        _ => HashCode.Combine(Kind, _scalar),
    };

    /// <summary>
    /// Writes the value as JSON: bytes as base64, uint64/uint128 as exact numbers, non-finite doubles as the
    /// strings "Infinity", "-Infinity" and "NaN" (JSON has no such numbers).
    /// </summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        switch (Kind)
        {
            case MmdbValueKind.Map:
                writer.WriteStartObject();
                foreach (var entry in Entries)
                {
                    writer.WritePropertyName(entry.Key);
                    entry.Value.WriteTo(writer);
                }

                writer.WriteEndObject();
                break;
            case MmdbValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in Items)
                {
                    item.WriteTo(writer);
                }

                writer.WriteEndArray();
                break;
            case MmdbValueKind.String:
                writer.WriteStringValue((string)_ref!);
                break;
            case MmdbValueKind.Bytes:
                writer.WriteBase64StringValue((byte[])_ref!);
                break;
            case MmdbValueKind.Boolean:
                writer.WriteBooleanValue(_scalar != 0);
                break;
            case MmdbValueKind.Double:
            case MmdbValueKind.Float:
                var number = AsDouble();
                if (double.IsFinite(number))
                {
                    if (Kind == MmdbValueKind.Float)
                    {
                        writer.WriteNumberValue(AsFloat());
                    }
                    else
                    {
                        writer.WriteNumberValue(number);
                    }
                }
                else
                {
                    writer.WriteStringValue(number.ToString(CultureInfo.InvariantCulture));
                }

                break;
            case MmdbValueKind.Int32:
                writer.WriteNumberValue(AsInt64());
                break;
            case MmdbValueKind.UInt128:
                writer.WriteRawValue(((UInt128)_ref!).ToString(CultureInfo.InvariantCulture), skipInputValidation: true);
                break;
            default:
                writer.WriteNumberValue(_scalar);
                break;
        }
    }

    /// <summary>The value as compact JSON (see <see cref="WriteTo"/>).</summary>
    public override string ToString()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, SkipValidation = true }))
        {
            WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private Dictionary<string, int> BuildIndex(KeyValuePair<string, MmdbValue>[] entries)
    {
        var index = new Dictionary<string, int>(entries.Length, StringComparer.Ordinal);
        for (var i = 0; i < entries.Length; i++)
        {
            // A hostile file may repeat a key; the first occurrence wins, as with the linear search.
            index.TryAdd(entries[i].Key, i);
        }

        Interlocked.CompareExchange(ref _index, index, null);
        return _index!;
    }

    private InvalidOperationException NotA(string what) => new($"An MMDB {Kind} is not a {what}.");
}
