using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace ExposureIndex.Grabbers.Ntp;

/// <summary>
/// Incremental parser of an NTP server reply (RFC 5905 §7.3): the 48-byte header. Extension fields and a MAC may
/// follow (§7.5); they are not needed and are ignored. A reply in any mode other than server (4) or broadcast (5)
/// is not an answer to a client request. Pure: no sockets, no clock.
/// </summary>
internal sealed class NtpParser : IIncrementalParser<NtpResult>
{
    public const int HeaderLength = 48;

    private readonly byte[] _header = new byte[HeaderLength];
    private int _filled;
    private ParseStatus _status = ParseStatus.NeedMore;

    public NtpResult? Result { get; private set; }

    public string? Error { get; private set; }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        if (_status != ParseStatus.NeedMore)
        {
            return _status;
        }

        var take = Math.Min(HeaderLength - _filled, chunk.Length);
        chunk[..take].CopyTo(_header.AsSpan(_filled));
        _filled += take;
        if (_filled >= 1)
        {
            var mode = _header[0] & 0x07;
            var version = (_header[0] >> 3) & 0x07;
            if (version is < 1 or > 4)
            {
                return Fail($"NTP version {version} is not 1-4");
            }

            if (mode is not (4 or 5))
            {
                return Fail($"NTP reply mode {mode} is not server (4)" + (mode == 6 ? "; it is a control message" : string.Empty));
            }
        }

        if (_filled < HeaderLength)
        {
            return _status;
        }

        Result = Parse(_header);
        _status = ParseStatus.Complete;
        return _status;
    }

    public ParseStatus End()
        => _status == ParseStatus.NeedMore ? Fail(_filled == 0 ? "no NTP reply" : $"NTP reply of {_filled} bytes is shorter than the {HeaderLength}-byte header") : _status;

    private ParseStatus Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
        return _status;
    }

    private static NtpResult Parse(ReadOnlySpan<byte> h)
    {
        var stratum = h[1];
        var refId = BinaryPrimitives.ReadUInt32BigEndian(h[12..]);
        return new NtpResult(
            Leap: h[0] >> 6,
            Version: (h[0] >> 3) & 0x07,
            Mode: h[0] & 0x07,
            Stratum: stratum,
            Poll: (sbyte)h[2],
            Precision: (sbyte)h[3],
            RootDelay: ShortFormat(BinaryPrimitives.ReadUInt32BigEndian(h[4..])),
            RootDispersion: ShortFormat(BinaryPrimitives.ReadUInt32BigEndian(h[8..])),
            ReferenceId: refId,
            ReferenceIdText: RefIdText(stratum, h.Slice(12, 4)),
            ReferenceTimestamp: BinaryPrimitives.ReadUInt64BigEndian(h[16..]),
            OriginTimestamp: BinaryPrimitives.ReadUInt64BigEndian(h[24..]),
            ReceiveTimestamp: BinaryPrimitives.ReadUInt64BigEndian(h[32..]),
            TransmitTimestamp: BinaryPrimitives.ReadUInt64BigEndian(h[40..]));
    }

    /// <summary>NTP short format (§6): 16 bits of seconds, 16 bits of fraction.</summary>
    private static double ShortFormat(uint value) => value / 65536.0;

    /// <summary>
    /// §7.3: at stratum 0 the reference id is a four-character kiss code, at stratum 1 a reference clock name
    /// (both ASCII, left-justified, zero-padded); above that the IPv4 address of the upstream server.
    /// </summary>
    internal static string RefIdText(int stratum, ReadOnlySpan<byte> refId)
    {
        if (stratum <= 1)
        {
            var sb = new StringBuilder(4);
            foreach (var b in refId)
            {
                if (b == 0)
                {
                    break;
                }

                sb.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
            }

            return sb.ToString();
        }

        return new IPAddress(refId).ToString();
    }
}

/// <summary>
/// Incremental parser of one mode 6 control response datagram (RFC 1305 appendix B, RFC 9327 §2): the 12-byte
/// header and <c>count</c> data bytes, which for READVAR are "name=value" pairs separated by commas. The count is
/// capped; a response announcing more fragments (M bit) keeps what this one carried. Pure: no sockets, no clock.
/// </summary>
internal sealed class NtpControlParser : IIncrementalParser<NtpControlResult>
{
    public const int HeaderLength = 12;

    /// <summary>RFC 1305 allows 468 data bytes per fragment; some servers send more, within a datagram.</summary>
    public const int MaxCount = 8192;

    public const int MaxVariables = 128;
    private const int MaxValueChars = 1024;

    private readonly List<byte> _buffer = new(512);
    private int _count = -1;
    private ParseStatus _status = ParseStatus.NeedMore;

    public NtpControlResult? Result { get; private set; }

    public string? Error { get; private set; }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        if (_status != ParseStatus.NeedMore || chunk.IsEmpty)
        {
            return _status;
        }

        _buffer.AddRange(chunk[..Math.Min(chunk.Length, Math.Max(0, HeaderLength + MaxCount - _buffer.Count))]);
        var data = CollectionsMarshal.AsSpan(_buffer);
        if ((data[0] & 0x07) != 6)
        {
            return Fail($"NTP control reply mode {data[0] & 0x07} is not 6");
        }

        if (data.Length >= 2 && (data[1] & 0x80) == 0)
        {
            return Fail("NTP control message is a request, not a response (R bit clear)");
        }

        if (_count < 0 && data.Length >= HeaderLength)
        {
            _count = BinaryPrimitives.ReadUInt16BigEndian(data[10..]);
            if (_count > MaxCount)
            {
                return Fail($"NTP control reply count {_count} is over the {MaxCount}-byte cap");
            }
        }

        if (_count < 0 || data.Length < HeaderLength + _count)
        {
            return _status;
        }

        Result = Parse(data[..(HeaderLength + _count)]);
        _status = ParseStatus.Complete;
        return _status;
    }

    public ParseStatus End()
        => _status == ParseStatus.NeedMore ? Fail(_buffer.Count == 0 ? "no NTP control reply" : $"NTP control reply cut off after {_buffer.Count} bytes") : _status;

    private ParseStatus Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
        return _status;
    }

    private static NtpControlResult Parse(ReadOnlySpan<byte> d)
    {
        var text = Encoding.ASCII.GetString(d[HeaderLength..]).TrimEnd('\0');
        var isError = (d[1] & 0x40) != 0;
        return new NtpControlResult(
            Version: (d[0] >> 3) & 0x07,
            Opcode: d[1] & 0x1F,
            IsResponse: true,
            IsError: isError,
            More: (d[1] & 0x20) != 0,
            Sequence: BinaryPrimitives.ReadUInt16BigEndian(d[2..]),
            Status: BinaryPrimitives.ReadUInt16BigEndian(d[4..]),
            AssociationId: BinaryPrimitives.ReadUInt16BigEndian(d[6..]),
            Offset: BinaryPrimitives.ReadUInt16BigEndian(d[8..]),
            Text: text,
            Variables: isError ? [] : ParseVariables(text));
    }

    /// <summary>Splits "a=1, b="x, y",\r\nc=2" at commas outside quotes (the READVAR text form, RFC 9327 §3).</summary>
    internal static List<KeyValuePair<string, string>> ParseVariables(string text)
    {
        var variables = new List<KeyValuePair<string, string>>();
        var start = 0;
        var quoted = false;
        for (var i = 0; i <= text.Length && variables.Count < MaxVariables; i++)
        {
            if (i < text.Length && text[i] == '"')
            {
                quoted = !quoted;
            }

            if (i == text.Length || (text[i] == ',' && !quoted))
            {
                var item = text[start..i].Trim(' ', '\t', '\r', '\n');
                start = i + 1;
                if (item.Length == 0)
                {
                    continue;
                }

                var eq = item.IndexOf('=', StringComparison.Ordinal);
                var name = (eq < 0 ? item : item[..eq]).Trim();
                var value = eq < 0 ? string.Empty : item[(eq + 1)..].Trim();
                if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
                {
                    value = value[1..^1];
                }

                if (name.Length > 0)
                {
                    variables.Add(new(name, value.Length > MaxValueChars ? value[..MaxValueChars] : value));
                }
            }
        }

        return variables;
    }
}
