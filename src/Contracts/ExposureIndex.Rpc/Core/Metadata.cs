using System.Collections;
using System.Text;

namespace ExposureIndex.Rpc.Core;

/// <summary>
/// Custom metadata of a call (request headers, response headers or trailers), in order. Keys follow
/// PROTOCOL-HTTP2 "Header-Name" (0-9 a-z _ - .); keys ending in <c>-bin</c> carry bytes (sent as
/// unpadded base64), other values are printable ASCII. Names reserved by gRPC and HTTP/2 are refused.
/// </summary>
public sealed class Metadata : IReadOnlyList<Metadata.Entry>
{
    /// <summary>Keys with this suffix carry binary values.</summary>
    public const string BinaryHeaderSuffix = "-bin";

    private readonly List<Entry> _entries = [];

    /// <summary>Number of entries.</summary>
    public int Count => _entries.Count;

    /// <summary>The entry at <paramref name="index"/>.</summary>
    public Entry this[int index] => _entries[index];

    /// <summary>Adds an ASCII entry. The key must not end in <c>-bin</c>.</summary>
    public Metadata Add(string key, string value)
    {
        var normalized = ValidateKey(key);
        if (normalized.EndsWith(BinaryHeaderSuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Metadata key '{normalized}' ends in '-bin' and needs a byte[] value.", nameof(key));
        }

        ArgumentNullException.ThrowIfNull(value);
        foreach (var c in value)
        {
            // PROTOCOL-HTTP2 ASCII-Value: %x20-%x7E.
            if (c is < ' ' or > '~')
            {
                throw new ArgumentException($"Metadata value of '{normalized}' holds character U+{(int)c:X4}; only printable ASCII (0x20-0x7E) is allowed.", nameof(value));
            }
        }

        _entries.Add(new Entry(normalized, value, null));
        return this;
    }

    /// <summary>Adds a binary entry. The key must end in <c>-bin</c>.</summary>
    public Metadata Add(string key, byte[] valueBytes)
    {
        var normalized = ValidateKey(key);
        if (!normalized.EndsWith(BinaryHeaderSuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Metadata key '{normalized}' carries bytes and must end in '-bin'.", nameof(key));
        }

        ArgumentNullException.ThrowIfNull(valueBytes);
        _entries.Add(new Entry(normalized, null, valueBytes));
        return this;
    }

    /// <summary>The last entry with <paramref name="key"/>, or null.</summary>
    public Entry? Get(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (string.Equals(_entries[i].Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return _entries[i];
            }
        }

        return null;
    }

    /// <summary>The ASCII value of the last entry with <paramref name="key"/>, or null.</summary>
    public string? GetValue(string key) => Get(key)?.Value;

    /// <summary>The bytes of the last binary entry with <paramref name="key"/>, or null.</summary>
    public byte[]? GetValueBytes(string key) => Get(key)?.ValueBytes;

    /// <summary>All entries with <paramref name="key"/>, in order.</summary>
    public IEnumerable<Entry> GetAll(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _entries.Where(e => string.Equals(e.Key, key, StringComparison.OrdinalIgnoreCase));
    }

    /// <inheritdoc />
    public IEnumerator<Entry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>True for names the transport owns: pseudo-headers, <c>grpc-*</c>, and HTTP/2 connection headers.</summary>
    public static bool IsReservedKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.StartsWith(':')
            || key.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)
            || key.Equals("content-type", StringComparison.OrdinalIgnoreCase)
            || key.Equals("te", StringComparison.OrdinalIgnoreCase)
            || key.Equals("host", StringComparison.OrdinalIgnoreCase)
            || key.Equals("connection", StringComparison.OrdinalIgnoreCase)
            || key.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)
            || key.Equals("proxy-connection", StringComparison.OrdinalIgnoreCase)
            || key.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase)
            || key.Equals("upgrade", StringComparison.OrdinalIgnoreCase)
            || key.Equals("user-agent", StringComparison.OrdinalIgnoreCase)
            || key.Equals("content-length", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Adds a received header as metadata; reserved names are skipped, binary values decoded.</summary>
    internal void AddReceived(string key, string value)
    {
        var normalized = key.ToLowerInvariant();
        if (IsReservedKey(normalized) || !IsValidKeySyntax(normalized))
        {
            return;
        }

        if (normalized.EndsWith(BinaryHeaderSuffix, StringComparison.Ordinal))
        {
            // PROTOCOL-HTTP2: duplicate binary headers may be joined with ","; split before decoding,
            // and accept both padded and unpadded base64.
            foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (TryDecodeBase64(part, out var bytes))
                {
                    _entries.Add(new Entry(normalized, null, bytes));
                }
            }

            return;
        }

        _entries.Add(new Entry(normalized, value.Trim(), null));
    }

    /// <summary>Base64 without padding, as PROTOCOL-HTTP2 recommends emitting.</summary>
    internal static string EncodeBinaryValue(byte[] value) => Convert.ToBase64String(value).TrimEnd('=');

    internal static bool TryDecodeBase64(string text, out byte[] bytes)
    {
        var padded = (text.Length % 4) switch
        {
            2 => text + "==",
            3 => text + "=",
            _ => text,
        };

        bytes = new byte[padded.Length / 4 * 3];
        if (Convert.TryFromBase64String(padded, bytes, out var written))
        {
            Array.Resize(ref bytes, written);
            return true;
        }

        bytes = [];
        return false;
    }

    private static string ValidateKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var normalized = key.ToLowerInvariant();
        if (!IsValidKeySyntax(normalized))
        {
            throw new ArgumentException($"Metadata key '{key}' is invalid; allowed characters are 0-9 a-z _ - .", nameof(key));
        }

        if (IsReservedKey(normalized))
        {
            throw new ArgumentException($"Metadata key '{key}' is reserved for the transport.", nameof(key));
        }

        return normalized;
    }

    private static bool IsValidKeySyntax(string key)
    {
        if (key.Length == 0)
        {
            return false;
        }

        foreach (var c in key)
        {
            if (!(c is >= '0' and <= '9' or >= 'a' and <= 'z' or '_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>One metadata entry: an ASCII <see cref="Value"/> or binary <see cref="ValueBytes"/>.</summary>
    public sealed class Entry
    {
        internal Entry(string key, string? value, byte[]? valueBytes)
        {
            Key = key;
            _value = value;
            _valueBytes = valueBytes;
        }

        private readonly string? _value;
        private readonly byte[]? _valueBytes;

        /// <summary>The lower-case key.</summary>
        public string Key { get; }

        /// <summary>True when the key ends in <c>-bin</c>.</summary>
        public bool IsBinary => _valueBytes is not null;

        /// <summary>The ASCII value; for a binary entry, its base64 text.</summary>
        public string Value => _value ?? EncodeBinaryValue(_valueBytes!);

        /// <summary>The bytes; for an ASCII entry, its ASCII encoding.</summary>
        public byte[] ValueBytes => _valueBytes ?? Encoding.ASCII.GetBytes(_value!);

        /// <summary>The value as it goes on the wire (base64 for binary entries).</summary>
        internal string WireValue => _value ?? EncodeBinaryValue(_valueBytes!);

        /// <inheritdoc />
        public override string ToString() => $"{Key}: {WireValue}";
    }
}
