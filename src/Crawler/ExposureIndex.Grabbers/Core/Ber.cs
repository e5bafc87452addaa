using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace ExposureIndex.Grabbers;

/// <summary>A BER element is malformed; the message names the broken part.</summary>
internal sealed class BerException : Exception
{
    public BerException()
    {
    }

    public BerException(string message)
        : base(message)
    {
    }

    public BerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The subset of ASN.1 BER (ITU-T X.690) that SNMP, LDAP and SPNEGO use: single-byte tags, definite lengths in
/// short or long form (at most 4 length bytes). Indefinite lengths (§8.1.3.6) and high tag numbers are rejected:
/// none of these protocols sends them, and refusing them keeps a hostile peer from making us buffer without end.
/// A declared length is checked against a cap before anything is buffered (a "length bomb" is Invalid at once).
/// </summary>
internal static class Ber
{
    public const byte Boolean = 0x01;
    public const byte Integer = 0x02;
    public const byte OctetString = 0x04;
    public const byte Null = 0x05;
    public const byte ObjectIdentifier = 0x06;
    public const byte Enumerated = 0x0A;
    public const byte Sequence = 0x30;
    public const byte Set = 0x31;

    /// <summary>OIDs with more arcs than this are refused (SNMP caps at 128 sub-identifiers, RFC 2578 §3.5).</summary>
    public const int MaxOidArcs = 128;

    /// <summary>
    /// Measures the element at the start of <paramref name="data"/>: NeedMore while its header or content is
    /// incomplete, Invalid when the header is malformed or the content would exceed <paramref name="maxContent"/>.
    /// </summary>
    public static ParseStatus TryMeasure(ReadOnlySpan<byte> data, int maxContent, out int totalLength, out string? error)
    {
        totalLength = 0;
        var status = TryReadHeader(data, out _, out var headerLength, out var contentLength, out error);
        if (status != ParseStatus.Complete)
        {
            return status;
        }

        if (contentLength > maxContent)
        {
            error = $"BER element declares {contentLength} content bytes, over the {maxContent}-byte cap";
            return ParseStatus.Invalid;
        }

        totalLength = headerLength + contentLength;
        return data.Length >= totalLength ? ParseStatus.Complete : ParseStatus.NeedMore;
    }

    /// <summary>Reads a tag and length (X.690 §8.1.2, §8.1.3). Complete means the header is whole, not the content.</summary>
    public static ParseStatus TryReadHeader(ReadOnlySpan<byte> data, out byte tag, out int headerLength, out int contentLength, out string? error)
    {
        tag = 0;
        headerLength = 0;
        contentLength = 0;
        error = null;
        if (data.Length < 2)
        {
            return ParseStatus.NeedMore;
        }

        tag = data[0];
        if ((tag & 0x1F) == 0x1F)
        {
            error = $"BER high-tag-number form (tag byte 0x{tag:x2}) is not used by this protocol";
            return ParseStatus.Invalid;
        }

        var first = data[1];
        if (first < 0x80)
        {
            headerLength = 2;
            contentLength = first;
            return ParseStatus.Complete;
        }

        var count = first & 0x7F;
        if (count == 0)
        {
            error = $"BER indefinite length (after tag 0x{tag:x2}) is not allowed here";
            return ParseStatus.Invalid;
        }

        if (count > 4)
        {
            error = $"BER length of {count} bytes (after tag 0x{tag:x2}) is absurd";
            return ParseStatus.Invalid;
        }

        if (data.Length < 2 + count)
        {
            return ParseStatus.NeedMore;
        }

        long length = 0;
        for (var i = 0; i < count; i++)
        {
            length = (length << 8) | data[2 + i];
        }

        if (length > int.MaxValue)
        {
            error = $"BER length {length} (after tag 0x{tag:x2}) is absurd";
            return ParseStatus.Invalid;
        }

        headerLength = 2 + count;
        contentLength = (int)length;
        return ParseStatus.Complete;
    }

    /// <summary>Decodes an OBJECT IDENTIFIER's content to dotted form (X.690 §8.19).</summary>
    public static string DecodeOid(ReadOnlySpan<byte> content)
    {
        if (content.IsEmpty)
        {
            throw new BerException("empty OBJECT IDENTIFIER");
        }

        var sb = new StringBuilder(content.Length * 3);
        var arcs = 0;
        BigInteger value = 0;
        var pending = false;
        for (var i = 0; i < content.Length; i++)
        {
            var b = content[i];
            if (!pending && b == 0x80)
            {
                throw new BerException($"OBJECT IDENTIFIER sub-identifier at byte {i} has a non-minimal leading 0x80");
            }

            value = (value << 7) | (b & 0x7F);
            pending = (b & 0x80) != 0;
            if (value.GetByteCount() > 16)
            {
                throw new BerException($"OBJECT IDENTIFIER sub-identifier at byte {i} is longer than 128 bits");
            }

            if (pending)
            {
                continue;
            }

            if (arcs == 0)
            {
                // The first sub-identifier packs the first two arcs: 40 * X + Y (§8.19.4).
                var first = value < 40 ? 0 : value < 80 ? 1 : 2;
                sb.Append(first.ToString(CultureInfo.InvariantCulture)).Append('.').Append((value - (40 * first)).ToString(CultureInfo.InvariantCulture));
                arcs = 2;
            }
            else
            {
                sb.Append('.').Append(value.ToString(CultureInfo.InvariantCulture));
                arcs++;
            }

            if (arcs > MaxOidArcs)
            {
                throw new BerException($"OBJECT IDENTIFIER has more than {MaxOidArcs} arcs");
            }

            value = 0;
        }

        if (pending)
        {
            throw new BerException("OBJECT IDENTIFIER ends inside a sub-identifier");
        }

        return sb.ToString();
    }

    /// <summary>Decodes a two's-complement INTEGER of at most 8 bytes (X.690 §8.3).</summary>
    public static long DecodeInteger(ReadOnlySpan<byte> content)
    {
        if (content.IsEmpty || content.Length > 8)
        {
            throw new BerException($"INTEGER of {content.Length} bytes is outside 1..8");
        }

        long value = (sbyte)content[0];
        for (var i = 1; i < content.Length; i++)
        {
            value = (value << 8) | content[i];
        }

        return value;
    }

    /// <summary>Decodes an unsigned value (SNMP Counter32/Gauge32/TimeTicks/Counter64) of at most 8 bytes plus a leading zero.</summary>
    public static ulong DecodeUnsigned(ReadOnlySpan<byte> content)
    {
        if (content.Length == 9 && content[0] == 0)
        {
            content = content[1..];
        }

        if (content.IsEmpty || content.Length > 8)
        {
            throw new BerException($"unsigned integer of {content.Length} bytes is outside 1..8");
        }

        ulong value = 0;
        foreach (var b in content)
        {
            value = (value << 8) | b;
        }

        return value;
    }

    /// <summary>Encodes a tag, a definite length and the content.</summary>
    public static byte[] Encode(byte tag, ReadOnlySpan<byte> content)
    {
        var writer = new ArrayBufferWriter<byte>(content.Length + 6);
        WriteHeader(writer, tag, content.Length);
        writer.Write(content);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a constructed element from already-encoded children.</summary>
    public static byte[] Encode(byte tag, params byte[][] children)
    {
        ArgumentNullException.ThrowIfNull(children);
        var length = children.Sum(c => c.Length);
        var writer = new ArrayBufferWriter<byte>(length + 6);
        WriteHeader(writer, tag, length);
        foreach (var child in children)
        {
            writer.Write(child);
        }

        return writer.WrittenSpan.ToArray();
    }

    public static byte[] EncodeInteger(long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        for (var i = 7; i >= 0; i--)
        {
            bytes[i] = (byte)value;
            value >>= 8;
        }

        // Minimal two's complement (§8.3.2): drop leading bytes that only repeat the sign.
        var start = 0;
        while (start < 7 && ((bytes[start] == 0 && (bytes[start + 1] & 0x80) == 0) || (bytes[start] == 0xFF && (bytes[start + 1] & 0x80) != 0)))
        {
            start++;
        }

        return Encode(Integer, bytes[start..]);
    }

    public static byte[] EncodeOctetString(string value) => Encode(OctetString, Encoding.UTF8.GetBytes(value));

    public static byte[] EncodeOid(string dotted)
    {
        ArgumentNullException.ThrowIfNull(dotted);
        var arcs = dotted.Split('.').Select(a => ulong.Parse(a, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
        if (arcs.Length < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40))
        {
            throw new ArgumentException($"'{dotted}' is not an object identifier", nameof(dotted));
        }

        var content = new List<byte>(arcs.Length * 2);
        AppendBase128(content, (arcs[0] * 40) + arcs[1]);
        foreach (var arc in arcs.Skip(2))
        {
            AppendBase128(content, arc);
        }

        return Encode(ObjectIdentifier, content.ToArray());
    }

    private static void AppendBase128(List<byte> content, ulong value)
    {
        Span<byte> groups = stackalloc byte[10];
        var n = 0;
        do
        {
            groups[n++] = (byte)(value & 0x7F);
            value >>= 7;
        }
        while (value != 0);

        for (var i = n - 1; i >= 0; i--)
        {
            content.Add((byte)(groups[i] | (i > 0 ? 0x80 : 0)));
        }
    }

    private static void WriteHeader(ArrayBufferWriter<byte> writer, byte tag, int length)
    {
        var span = writer.GetSpan(6);
        span[0] = tag;
        if (length < 0x80)
        {
            span[1] = (byte)length;
            writer.Advance(2);
            return;
        }

        var bytes = length <= 0xFF ? 1 : length <= 0xFFFF ? 2 : length <= 0xFFFFFF ? 3 : 4;
        span[1] = (byte)(0x80 | bytes);
        for (var i = 0; i < bytes; i++)
        {
            span[2 + i] = (byte)(length >> (8 * (bytes - 1 - i)));
        }

        writer.Advance(2 + bytes);
    }
}

/// <summary>
/// Walks the elements inside one BER content block. Every read checks the declared length against what is
/// actually there, so malformed input ends in a <see cref="BerException"/> naming the element, never an
/// out-of-range read or an allocation sized by the peer.
/// </summary>
internal ref struct BerReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _what;
    private int _position;

    /// <param name="what">What the block is, for error messages ("SNMP message").</param>
    public BerReader(ReadOnlySpan<byte> data, string what)
    {
        _data = data;
        _what = what;
        _position = 0;
    }

    public readonly bool HasMore => _position < _data.Length;

    public readonly int Position => _position;

    /// <summary>The next element's tag, without consuming it.</summary>
    public readonly byte PeekTag() => HasMore ? _data[_position] : throw new BerException($"{_what} ends where another element was expected");

    /// <summary>Reads the next element; returns its tag and content.</summary>
    public ReadOnlySpan<byte> Read(out byte tag)
    {
        var rest = _data[_position..];
        var status = Ber.TryReadHeader(rest, out tag, out var header, out var length, out var error);
        if (status == ParseStatus.Invalid)
        {
            throw new BerException($"{_what} at byte {_position}: {error}");
        }

        if (status == ParseStatus.NeedMore || (long)header + length > rest.Length)
        {
            throw new BerException($"{_what} at byte {_position}: element 0x{tag:x2} of {length} bytes runs past the end ({rest.Length - header} bytes left)");
        }

        _position += header + length;
        return rest.Slice(header, length);
    }

    /// <summary>Reads the next element and checks its tag.</summary>
    public ReadOnlySpan<byte> Read(byte expectedTag, string field)
    {
        var start = _position;
        var content = Read(out var tag);
        if (tag != expectedTag)
        {
            throw new BerException($"{_what} at byte {start}: {field} has tag 0x{tag:x2}, expected 0x{expectedTag:x2}");
        }

        return content;
    }

    public long ReadInteger(string field, byte tag = Ber.Integer)
    {
        var content = Read(tag, field);
        try
        {
            return Ber.DecodeInteger(content);
        }
        catch (BerException e)
        {
            throw new BerException($"{_what}: {field}: {e.Message}", e);
        }
    }

    /// <summary>Reads an OCTET STRING (or another string-like tag) as text: UTF-8 when valid, else Latin-1, capped.</summary>
    public string ReadString(string field, int maxChars, byte tag = Ber.OctetString)
        => BerText.Decode(Read(tag, field), maxChars);
}

/// <summary>How protocol strings from the wire become record text.</summary>
internal static class BerText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>UTF-8 when valid, else Latin-1 (so no byte is lost or replaced), cut to <paramref name="maxChars"/>.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes, int maxChars)
    {
        if (bytes.Length > maxChars * 4)
        {
            bytes = bytes[..(maxChars * 4)];
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            text = Encoding.Latin1.GetString(bytes);
        }

        return text.Length > maxChars ? text[..maxChars] : text;
    }
}
