using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ExposureIndex.Indexer.Enrichment.ReverseDns;

/// <summary>
/// The two DNS messages reverse lookups need (RFC 1035 §4): a PTR query for the in-addr.arpa / ip6.arpa name
/// (RFC 1035 §3.5, RFC 3596 §2.5) and the answer's PTR names. Pure: bytes in, names out; hostile input
/// (compression loops, lengths past the end) gives an error, never an exception or a hang.
/// </summary>
internal static class PtrMessage
{
    private const ushort TypePtr = 12;
    private const ushort ClassIn = 1;

    public static string ReverseName(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return $"{bytes[3]}.{bytes[2]}.{bytes[1]}.{bytes[0]}.in-addr.arpa";
        }

        var sb = new StringBuilder(72);
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            sb.Append("0123456789abcdef"[bytes[i] & 0xF]).Append('.').Append("0123456789abcdef"[bytes[i] >> 4]).Append('.');
        }

        return sb.Append("ip6.arpa").ToString();
    }

    public static byte[] Query(ushort id, string name)
    {
        var buffer = new List<byte>(64);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        header[2] = 0x01; // RD: let a recursive resolver do the work
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], 1); // QDCOUNT
        buffer.AddRange(header.ToArray());
        foreach (var label in name.Split('.'))
        {
            buffer.Add((byte)label.Length);
            buffer.AddRange(Encoding.ASCII.GetBytes(label));
        }

        buffer.Add(0);
        buffer.AddRange([0, (byte)TypePtr, 0, (byte)ClassIn]);
        return [.. buffer];
    }

    /// <summary>Parses an answer to query <paramref name="id"/>: the PTR names and the smallest TTL, or an error.</summary>
    public static bool TryParseAnswer(ReadOnlySpan<byte> message, ushort id, out List<string> names, out uint ttl, out bool nameError, out string? error)
    {
        names = [];
        ttl = 0;
        nameError = false;
        error = null;
        if (message.Length < 12)
        {
            error = "DNS reply shorter than its 12-byte header";
            return false;
        }

        if (BinaryPrimitives.ReadUInt16BigEndian(message) != id || (message[2] & 0x80) == 0)
        {
            error = "not a reply to our query (id or QR bit)";
            return false;
        }

        var rcode = message[3] & 0x0F;
        if (rcode == 3)
        {
            nameError = true; // NXDOMAIN: no PTR record, a valid negative answer
            return true;
        }

        if (rcode != 0)
        {
            error = $"DNS reply code {rcode}";
            return false;
        }

        var questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        var answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var offset = 12;
        for (var q = 0; q < questions; q++)
        {
            if (!TrySkipName(message, ref offset) || offset + 4 > message.Length)
            {
                error = "truncated question section";
                return false;
            }

            offset += 4;
        }

        ttl = uint.MaxValue;
        for (var a = 0; a < answers && a < 64; a++)
        {
            if (!TrySkipName(message, ref offset) || offset + 10 > message.Length)
            {
                error = "truncated answer record";
                return false;
            }

            var type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            var recordTtl = BinaryPrimitives.ReadUInt32BigEndian(message[(offset + 4)..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
            offset += 10;
            if (offset + length > message.Length)
            {
                error = "answer data runs past the end of the reply";
                return false;
            }

            if (type == TypePtr)
            {
                var at = offset;
                if (!TryReadName(message, ref at, out var name))
                {
                    error = "malformed PTR name";
                    return false;
                }

                if (name.Length > 0 && names.Count < 16)
                {
                    names.Add(name.ToLowerInvariant());
                    ttl = Math.Min(ttl, recordTtl);
                }
            }

            offset += length;
        }

        if (ttl == uint.MaxValue)
        {
            ttl = 0;
        }

        return true;
    }

    private static bool TrySkipName(ReadOnlySpan<byte> message, ref int offset)
    {
        for (var guard = 0; guard < 128; guard++)
        {
            if (offset >= message.Length)
            {
                return false;
            }

            var length = message[offset];
            if ((length & 0xC0) == 0xC0)
            {
                offset += 2;
                return offset <= message.Length;
            }

            offset++;
            if (length == 0)
            {
                return true;
            }

            offset += length;
        }

        return false;
    }

    /// <summary>Reads a possibly compressed name (RFC 1035 §4.1.4); pointers must go backwards, at most 255 bytes.</summary>
    private static bool TryReadName(ReadOnlySpan<byte> message, ref int offset, out string name)
    {
        var sb = new StringBuilder();
        var at = offset;
        var jumped = false;
        for (var guard = 0; guard < 128; guard++)
        {
            if (at >= message.Length)
            {
                break;
            }

            var length = message[at];
            if ((length & 0xC0) == 0xC0)
            {
                if (at + 1 >= message.Length)
                {
                    break;
                }

                var target = ((length & 0x3F) << 8) | message[at + 1];
                if (target >= at)
                {
                    break; // forward or self pointers could loop
                }

                if (!jumped)
                {
                    offset = at + 2;
                }

                jumped = true;
                at = target;
                continue;
            }

            if (length == 0)
            {
                if (!jumped)
                {
                    offset = at + 1;
                }

                name = sb.ToString();
                return sb.Length <= 255;
            }

            if ((length & 0xC0) != 0 || at + 1 + length > message.Length)
            {
                break;
            }

            if (sb.Length > 0)
            {
                sb.Append('.');
            }

            foreach (var b in message.Slice(at + 1, length))
            {
                sb.Append(b is > 32 and < 127 ? (char)b : '?');
            }

            at += 1 + length;
        }

        name = string.Empty;
        return false;
    }
}
