using System.Buffers.Binary;
using System.Text;

namespace ExposureIndex.Grabbers.Dns;

/// <summary>
/// Incremental parser of one DNS reply (RFC 1035 §4.1). Over TCP the message is preceded by a two-byte length
/// (§4.2.2); over UDP it is the whole datagram, so the parser completes as soon as the header, the question and the
/// answers it announces are all present. Names follow compression pointers (§4.1.4) with a bounded number of jumps;
/// counts in the header never size an allocation (each record is parsed from bytes that actually arrived, and at
/// most <see cref="MaxAnswers"/> are kept). Pure: no sockets, no clock.
/// </summary>
internal sealed class DnsParser : IIncrementalParser<DnsResult>
{
    public const int MaxMessageBytes = 65_535;
    public const int MaxAnswers = 32;
    private const int MaxNameLength = 255;
    private const int MaxPointerJumps = 32;
    private const int MaxTextChars = 1024;

    private readonly bool _tcp;
    private readonly List<byte> _buffer = new(512);
    private int _frameLength = -1;
    private ParseStatus _status = ParseStatus.NeedMore;

    /// <param name="tcp">True for RFC 1035 §4.2.2 framing (a two-byte length first).</param>
    public DnsParser(bool tcp) => _tcp = tcp;

    public DnsResult? Result { get; private set; }

    public string? Error { get; private set; }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        if (_status != ParseStatus.NeedMore || chunk.IsEmpty)
        {
            return _status;
        }

        var room = (_tcp ? 2 + MaxMessageBytes : MaxMessageBytes) - _buffer.Count;
        _buffer.AddRange(chunk[..Math.Min(room, chunk.Length)]);
        var data = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_buffer);
        if (_tcp)
        {
            if (_frameLength < 0)
            {
                if (data.Length < 2)
                {
                    return _status;
                }

                _frameLength = BinaryPrimitives.ReadUInt16BigEndian(data);
                if (_frameLength < 12)
                {
                    return Fail($"DNS over TCP frame of {_frameLength} bytes is shorter than the 12-byte header");
                }
            }

            if (data.Length < 2 + _frameLength)
            {
                return _status;
            }

            return Finish(data.Slice(2, _frameLength), final: true);
        }

        return Finish(data, final: room <= chunk.Length);
    }

    public ParseStatus End()
    {
        if (_status != ParseStatus.NeedMore)
        {
            return _status;
        }

        if (_buffer.Count == 0)
        {
            return Fail("no DNS reply");
        }

        if (_tcp)
        {
            return Fail(_frameLength < 0 ? "the server closed inside the DNS over TCP length" : $"the server closed after {_buffer.Count - 2} of {_frameLength} DNS message bytes");
        }

        return Finish(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_buffer), final: true);
    }

    private ParseStatus Finish(ReadOnlySpan<byte> message, bool final)
    {
        if (TryParse(message, out var result, out var error, out var truncated))
        {
            Result = result;
            _status = ParseStatus.Complete;
            return _status;
        }

        if (truncated && !final)
        {
            return _status;
        }

        return Fail(error!);
    }

    private ParseStatus Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
        return _status;
    }

    /// <summary>Parses a whole message; <paramref name="truncated"/> says the failure was running out of bytes.</summary>
    internal static bool TryParse(ReadOnlySpan<byte> message, out DnsResult? result, out string? error, out bool truncated)
    {
        result = null;
        error = null;
        truncated = false;
        if (message.Length < 12)
        {
            truncated = true;
            error = $"DNS message of {message.Length} bytes is shorter than the 12-byte header";
            return false;
        }

        // §4.1.1 header.
        var id = BinaryPrimitives.ReadUInt16BigEndian(message);
        var flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        var qdCount = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        var anCount = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var nsCount = BinaryPrimitives.ReadUInt16BigEndian(message[8..]);
        var arCount = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        var offset = 12;
        string? questionName = null;
        int questionType = 0, questionClass = 0;
        for (var q = 0; q < qdCount; q++)
        {
            if (!TryReadName(message, ref offset, out var name, out error, out truncated))
            {
                error = $"question {q}: {error}";
                return false;
            }

            if (offset + 4 > message.Length)
            {
                truncated = true;
                error = $"question {q} ends before its type and class";
                return false;
            }

            if (q == 0)
            {
                questionName = name;
                questionType = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
                questionClass = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
            }

            offset += 4;
        }

        var answers = new List<DnsRecord>(Math.Min((int)anCount, 4));
        for (var a = 0; a < anCount && a < MaxAnswers; a++)
        {
            if (!TryReadName(message, ref offset, out var name, out error, out truncated))
            {
                error = $"answer {a}: {error}";
                return false;
            }

            // §4.1.3: TYPE, CLASS, TTL, RDLENGTH, then RDATA.
            if (offset + 10 > message.Length)
            {
                truncated = true;
                error = $"answer {a} ends inside its fixed fields";
                return false;
            }

            var type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            var @class = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
            var ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(offset + 4)..]);
            var rdLength = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
            offset += 10;
            if (offset + rdLength > message.Length)
            {
                truncated = true;
                error = $"answer {a} declares {rdLength} data bytes but only {message.Length - offset} remain";
                return false;
            }

            var texts = type == DnsQuery.TypeTxt ? ReadTexts(message.Slice(offset, rdLength)) : [];
            answers.Add(new DnsRecord(name, type, @class, ttl, rdLength, texts));
            offset += rdLength;
        }

        result = new DnsResult(
            id,
            IsResponse: (flags & 0x8000) != 0,
            Opcode: (flags >> 11) & 0x0F,
            Authoritative: (flags & 0x0400) != 0,
            Truncated: (flags & 0x0200) != 0,
            RecursionDesired: (flags & 0x0100) != 0,
            RecursionAvailable: (flags & 0x0080) != 0,
            ResponseCode: flags & 0x0F,
            questionName,
            questionType,
            questionClass,
            answers,
            nsCount,
            arCount);
        return true;
    }

    /// <summary>TXT RDATA (§3.3.14): one or more length-prefixed character-strings.</summary>
    private static List<string> ReadTexts(ReadOnlySpan<byte> rdata)
    {
        var texts = new List<string>(1);
        var total = 0;
        var i = 0;
        while (i < rdata.Length && total < MaxTextChars)
        {
            var length = rdata[i++];
            var take = Math.Min(length, rdata.Length - i);
            var text = BerText.Decode(rdata.Slice(i, take), MaxTextChars - total);
            texts.Add(text);
            total += text.Length;
            i += take;
        }

        return texts;
    }

    /// <summary>Reads a possibly compressed domain name (§3.1, §4.1.4) in presentation form ("version.bind").</summary>
    private static bool TryReadName(ReadOnlySpan<byte> message, ref int offset, out string name, out string? error, out bool truncated)
    {
        name = string.Empty;
        error = null;
        truncated = false;
        var sb = new StringBuilder();
        var position = offset;
        var jumped = false;
        var jumps = 0;
        var length = 0;
        while (true)
        {
            if (position >= message.Length)
            {
                truncated = !jumped;
                error = jumped ? $"a compression pointer leads past the end (to byte {position})" : "the name runs past the end";
                return false;
            }

            var label = message[position];
            if ((label & 0xC0) == 0xC0)
            {
                if (position + 1 >= message.Length)
                {
                    truncated = !jumped;
                    error = "the name ends inside a compression pointer";
                    return false;
                }

                var target = ((label & 0x3F) << 8) | message[position + 1];
                if (!jumped)
                {
                    offset = position + 2;
                }

                if (++jumps > MaxPointerJumps || target >= position)
                {
                    // Pointers must point backwards (to a prior occurrence); anything else could loop.
                    error = $"compression pointer at byte {position} to byte {target} loops or points forward";
                    return false;
                }

                jumped = true;
                position = target;
                continue;
            }

            if ((label & 0xC0) != 0)
            {
                error = $"label type 0x{label & 0xC0:x2} at byte {position} is not supported";
                return false;
            }

            if (label == 0)
            {
                if (!jumped)
                {
                    offset = position + 1;
                }

                name = sb.Length == 0 ? "." : sb.ToString();
                return true;
            }

            if (position + 1 + label > message.Length)
            {
                truncated = !jumped;
                error = $"label of {label} bytes at byte {position} runs past the end";
                return false;
            }

            length += label + 1;
            if (length > MaxNameLength)
            {
                error = $"name is longer than {MaxNameLength} bytes";
                return false;
            }

            if (sb.Length > 0)
            {
                sb.Append('.');
            }

            foreach (var b in message.Slice(position + 1, label))
            {
                // Presentation format (RFC 1035 §5.1): escape what is not a plain printable character.
                if (b is > 0x20 and < 0x7F && b != (byte)'.' && b != (byte)'\\')
                {
                    sb.Append((char)b);
                }
                else
                {
                    sb.Append('\\').Append(b.ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            position += 1 + label;
        }
    }
}
