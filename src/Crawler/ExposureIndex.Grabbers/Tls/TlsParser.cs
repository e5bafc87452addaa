using System.Buffers.Binary;
using System.Text;

namespace ExposureIndex.Grabbers.Tls;

/// <summary>
/// Incremental parser of a server's first flight in reply to our ClientHello, up to and including the ServerHello
/// (or an alert). TLS records (RFC 8446 §5.1: type, legacy version, 16-bit length) are reassembled into handshake
/// messages (§4: type, 24-bit length), which may span records. Anything else before the ServerHello - plaintext,
/// SSLv2, application data, an oversized record or message, too many records - is Invalid with a reason, so
/// garbage costs at most one record. Pure: no sockets, no clock.
/// </summary>
internal sealed class TlsParser : IIncrementalParser<TlsResult>
{
    /// <summary>RFC 8446 §5.2: a record is at most 2^14 + 256 bytes (TLSCiphertext); older stacks allow 2^14 + 2048.</summary>
    public const int MaxRecordLength = 16384 + 2048;

    /// <summary>A ServerHello is small; a bigger first message is not one.</summary>
    public const int MaxServerHelloLength = 64 * 1024;

    private const int MaxRecords = 64;
    private const byte ChangeCipherSpec = 20;
    private const byte AlertRecord = 21;
    private const byte HandshakeRecord = 22;
    private const byte ServerHelloType = 2;

    // RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello whose random is SHA-256("HelloRetryRequest").
    private static readonly byte[] HelloRetryRandom = Convert.FromHexString("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C");

    private readonly byte[] _header = new byte[5];
    private readonly MemoryStream _handshake = new();
    private readonly List<byte> _alert = new(2);
    private int _headerFill;
    private int _recordRemaining;
    private byte _recordType;
    private int _records;
    private bool _done;
    private bool _invalid;

    public TlsResult? Result { get; private set; }

    public string? Error { get; private set; }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        var i = 0;
        while (i < chunk.Length && !_done && !_invalid)
        {
            if (_recordRemaining == 0)
            {
                _header[_headerFill++] = chunk[i++];
                if (_headerFill == 5)
                {
                    _headerFill = 0;
                    StartRecord();
                }

                continue;
            }

            var take = Math.Min(_recordRemaining, chunk.Length - i);
            var fragment = chunk.Slice(i, take);
            i += take;
            _recordRemaining -= take;
            if (_recordType == AlertRecord)
            {
                foreach (var b in fragment)
                {
                    _alert.Add(b);
                    if (_alert.Count == 2)
                    {
                        Result = TlsResult.Alert(_alert[0], _alert[1]);
                        _done = true;
                        break;
                    }
                }
            }
            else if (_recordType == HandshakeRecord)
            {
                _handshake.Write(fragment);
                TryServerHello();
            }
        }

        return Status;
    }

    public ParseStatus End()
    {
        if (!_done && !_invalid)
        {
            Fail(_records == 0 && _headerFill == 0
                ? "the server closed the connection without answering our ClientHello"
                : "the server closed the connection before a complete ServerHello");
        }

        return Status;
    }

    private ParseStatus Status => _done ? ParseStatus.Complete : _invalid ? ParseStatus.Invalid : ParseStatus.NeedMore;

    private void StartRecord()
    {
        var type = _header[0];
        var major = _header[1];
        var length = BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(3));
        if (_records == 0 && type is not (AlertRecord or HandshakeRecord))
        {
            Fail(DescribeNonTls(_header));
            return;
        }

        if (major != 3 || type is < ChangeCipherSpec or > 23)
        {
            Fail($"not a TLS record: content type {type}, version {_header[1]:x2}{_header[2]:x2} (RFC 8446 §5.1)");
            return;
        }

        if (length == 0 || length > MaxRecordLength)
        {
            Fail($"TLS record length {length} is outside 1..{MaxRecordLength}");
            return;
        }

        if (++_records > MaxRecords)
        {
            Fail($"no ServerHello within {MaxRecords} TLS records");
            return;
        }

        if (type is not (AlertRecord or HandshakeRecord))
        {
            Fail($"TLS record of type {type} arrived before the ServerHello");
            return;
        }

        _recordType = type;
        _recordRemaining = length;
    }

    private void TryServerHello()
    {
        var buffer = _handshake.GetBuffer().AsSpan(0, (int)_handshake.Length);
        if (buffer.Length < 4)
        {
            return;
        }

        var type = buffer[0];
        var length = (buffer[1] << 16) | (buffer[2] << 8) | buffer[3];
        if (type != ServerHelloType)
        {
            Fail($"expected a ServerHello (handshake type 2) first, got handshake type {type}");
            return;
        }

        if (length > MaxServerHelloLength)
        {
            Fail($"ServerHello length {length} exceeds {MaxServerHelloLength} bytes");
            return;
        }

        if (buffer.Length < 4 + length)
        {
            return;
        }

        ParseServerHello(buffer.Slice(4, length));
    }

    private void ParseServerHello(ReadOnlySpan<byte> body)
    {
        // legacy_version(2) random(32) legacy_session_id<0..32> cipher_suite(2) legacy_compression_method(1) extensions<0..2^16-1>
        if (body.Length < 2 + 32 + 1)
        {
            Fail("ServerHello is too short");
            return;
        }

        var legacyVersion = BinaryPrimitives.ReadUInt16BigEndian(body);
        var random = body.Slice(2, 32);
        var sessionLength = body[34];
        var at = 35 + sessionLength;
        if (sessionLength > 32 || body.Length < at + 3)
        {
            Fail("ServerHello session id or cipher suite is cut short");
            return;
        }

        var cipher = BinaryPrimitives.ReadUInt16BigEndian(body[at..]);
        var compression = body[at + 2];
        at += 3;
        var extensions = new List<ushort>();
        ushort version = legacyVersion;
        string? alpn = null;
        if (at < body.Length)
        {
            if (body.Length < at + 2)
            {
                Fail("ServerHello extensions length is cut short");
                return;
            }

            var extLength = BinaryPrimitives.ReadUInt16BigEndian(body[at..]);
            at += 2;
            if (body.Length < at + extLength)
            {
                Fail("ServerHello extensions overrun the message");
                return;
            }

            var ext = body.Slice(at, extLength);
            while (ext.Length > 0)
            {
                if (ext.Length < 4)
                {
                    Fail("a ServerHello extension header is cut short");
                    return;
                }

                var extType = BinaryPrimitives.ReadUInt16BigEndian(ext);
                var dataLength = BinaryPrimitives.ReadUInt16BigEndian(ext[2..]);
                if (ext.Length < 4 + dataLength)
                {
                    Fail($"ServerHello extension {extType} overruns the extension block");
                    return;
                }

                var data = ext.Slice(4, dataLength);
                extensions.Add(extType);
                if (extType == 43 && data.Length == 2)
                {
                    // supported_versions in a ServerHello carries the selected version (RFC 8446 §4.2.1).
                    version = BinaryPrimitives.ReadUInt16BigEndian(data);
                }
                else if (extType == 16 && data.Length >= 3)
                {
                    // ALPN: ProtocolNameList with exactly one name (RFC 7301 §3.1).
                    var nameLength = data[2];
                    if (data.Length >= 3 + nameLength)
                    {
                        alpn = Encoding.ASCII.GetString(data.Slice(3, nameLength));
                    }
                }

                ext = ext[(4 + dataLength)..];
            }
        }

        Result = new TlsResult(false, 0, 0, legacyVersion, version, cipher, compression, extensions, alpn, random.SequenceEqual(HelloRetryRandom));
        _done = true;
    }

    private static string DescribeNonTls(ReadOnlySpan<byte> first)
    {
        if (first.StartsWith("HTTP/"u8))
        {
            return "not TLS: the server answered in plaintext HTTP";
        }

        if ((first[0] & 0x80) != 0 && first[2] == 4)
        {
            return "not TLS: the server answered with an SSLv2 ServerHello";
        }

        var printable = first.ToArray().All(b => b is >= 0x20 and < 0x7f);
        return printable
            ? $"not TLS: the server answered in plaintext (\"{Encoding.ASCII.GetString(first)}...\")"
            : $"not a TLS record: first bytes {Convert.ToHexString(first)}";
    }

    private void Fail(string error)
    {
        Error = error;
        _invalid = true;
    }
}
