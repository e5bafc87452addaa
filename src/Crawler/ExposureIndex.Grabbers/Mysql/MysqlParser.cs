using System.Buffers.Binary;
using System.Text;

namespace ExposureIndex.Grabbers.Mysql;

/// <summary>
/// Parses the server's first packet (MySQL client/server protocol, "Connection Phase"): a 4-byte header (3-byte
/// little-endian payload length, sequence id) and the payload, which is Protocol::HandshakeV10, HandshakeV9, or an
/// ERR packet. The client sends nothing: we read the greeting and hang up before any login (zgrab2 stops here too,
/// unless asked for TLS). Pure; bounded to one packet of at most <c>maxPacket</c> bytes.
/// </summary>
internal sealed class MysqlParser : IConversationParser<MysqlResult>
{
    public const uint ClientLongPassword = 1;
    public const uint ClientSsl = 0x800;
    public const uint ClientSecureConnection = 0x8000;
    public const uint ClientPluginAuth = 0x80000;

    private readonly int _maxPacket;
    private readonly List<byte> _packet = [];
    private int _payloadLength = -1;
    private ParseStatus _status = ParseStatus.NeedMore;

    public MysqlParser(int maxPacket = 16 * 1024)
    {
        _maxPacket = maxPacket;
    }

    public MysqlResult? Result { get; private set; }

    public string? Error { get; private set; }

    public ReadOnlyMemory<byte> TakeOutgoing() => ReadOnlyMemory<byte>.Empty;

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        if (_status != ParseStatus.NeedMore)
        {
            return _status;
        }

        var want = (_payloadLength < 0 ? 4 : 4 + _payloadLength) - _packet.Count;
        var take = Math.Min(want, chunk.Length);
        _packet.AddRange(chunk[..take]);
        chunk = chunk[take..];
        if (_payloadLength < 0 && _packet.Count == 4)
        {
            _payloadLength = _packet[0] | (_packet[1] << 8) | (_packet[2] << 16);
            if (_payloadLength == 0 || _payloadLength > _maxPacket)
            {
                return Fail($"a first packet of {_payloadLength} bytes is no MySQL greeting (at most {_maxPacket})");
            }

            if (_packet[3] != 0)
            {
                return Fail($"the greeting's sequence id is {_packet[3]}, not 0");
            }

            return Feed(chunk);
        }

        if (_payloadLength >= 0 && _packet.Count == 4 + _payloadLength)
        {
            return Parse([.. _packet]);
        }

        return ParseStatus.NeedMore;
    }

    public ParseStatus End() => _status != ParseStatus.NeedMore
        ? _status
        : Fail(_packet.Count == 0 ? "the server closed the connection without a greeting" : $"the connection closed {(_payloadLength < 0 ? 4 : 4 + _payloadLength) - _packet.Count} bytes into the greeting packet");

    /// <summary>Names of the CLIENT_* capability flags set in <paramref name="capabilities"/>.</summary>
    internal static IReadOnlyList<string> FlagNames(uint capabilities, bool upper)
    {
        var names = new List<string>();
        for (var bit = 0; bit < (upper ? 32 : 16); bit++)
        {
            if ((capabilities & (1u << bit)) != 0)
            {
                names.Add(CapabilityNames[bit]);
            }
        }

        return names;
    }

    // Bit i of the capability flags (MySQL's include/mysql_com.h; bit 0 is CLIENT_MYSQL to MariaDB).
    private static readonly string[] CapabilityNames =
    [
        "CLIENT_LONG_PASSWORD", "CLIENT_FOUND_ROWS", "CLIENT_LONG_FLAG", "CLIENT_CONNECT_WITH_DB",
        "CLIENT_NO_SCHEMA", "CLIENT_COMPRESS", "CLIENT_ODBC", "CLIENT_LOCAL_FILES",
        "CLIENT_IGNORE_SPACE", "CLIENT_PROTOCOL_41", "CLIENT_INTERACTIVE", "CLIENT_SSL",
        "CLIENT_IGNORE_SIGPIPE", "CLIENT_TRANSACTIONS", "CLIENT_RESERVED", "CLIENT_SECURE_CONNECTION",
        "CLIENT_MULTI_STATEMENTS", "CLIENT_MULTI_RESULTS", "CLIENT_PS_MULTI_RESULTS", "CLIENT_PLUGIN_AUTH",
        "CLIENT_CONNECT_ATTRS", "CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA", "CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS", "CLIENT_SESSION_TRACK",
        "CLIENT_DEPRECATE_EOF", "CLIENT_OPTIONAL_RESULTSET_METADATA", "CLIENT_ZSTD_COMPRESSION_ALGORITHM", "CLIENT_QUERY_ATTRIBUTES",
        "CLIENT_MULTI_FACTOR_AUTHENTICATION", "CLIENT_CAPABILITY_EXTENSION", "CLIENT_SSL_VERIFY_SERVER_CERT", "CLIENT_REMEMBER_OPTIONS",
    ];

    private ParseStatus Parse(byte[] packet)
    {
        var payload = packet.AsSpan(4);
        return payload[0] switch
        {
            0x0a => ParseV10(packet, payload),
            0x09 => ParseV9(packet, payload),
            0xff => ParseError(packet, payload),
            _ => Fail($"the first packet starts with 0x{payload[0]:x2}: not a MySQL handshake (10) or ERR packet (0xff)"),
        };
    }

    // Protocol::HandshakeV10.
    private ParseStatus ParseV10(byte[] packet, ReadOnlySpan<byte> p)
    {
        var pos = 1;
        if (!TryNulString(p, ref pos, out var version))
        {
            return Fail("the handshake's server version is not NUL-terminated");
        }

        // thread id (4), auth-plugin-data-part-1 (8), filler (1), capability flags lower (2)
        if (p.Length < pos + 15)
        {
            return Fail("the handshake ends before its capability flags");
        }

        var connectionId = BinaryPrimitives.ReadUInt32LittleEndian(p[pos..]);
        pos += 4 + 8 + 1;
        uint capabilities = BinaryPrimitives.ReadUInt16LittleEndian(p[pos..]);
        pos += 2;
        var result = new MysqlResult { Packet = packet, ProtocolVersion = 10, ServerVersion = version, ConnectionId = connectionId, Capabilities = capabilities };
        if (p.Length == pos)
        {
            // Pre-4.1 servers end here.
            return Done(result);
        }

        // character set (1), status flags (2), capability flags upper (2), auth plugin data length (1), reserved (10)
        if (p.Length < pos + 16)
        {
            return Fail("the handshake ends inside its status and capability block");
        }

        var charset = p[pos];
        var status = BinaryPrimitives.ReadUInt16LittleEndian(p[(pos + 1)..]);
        capabilities |= (uint)BinaryPrimitives.ReadUInt16LittleEndian(p[(pos + 3)..]) << 16;
        var authDataLength = p[pos + 5];
        var reserved = p.Slice(pos + 6, 10);
        pos += 16;
        // MariaDB puts its extended capabilities in the last 4 reserved bytes when it clears CLIENT_MYSQL.
        var mariaDb = (capabilities & ClientLongPassword) == 0 ? BinaryPrimitives.ReadUInt32LittleEndian(reserved[6..]) : 0;
        if ((capabilities & ClientSecureConnection) != 0)
        {
            pos += Math.Max(13, authDataLength - 8);
        }

        string? plugin = null;
        if ((capabilities & ClientPluginAuth) != 0 && pos < p.Length)
        {
            // Some servers omit the final NUL (MySQL bug #59453): the name then runs to the packet's end.
            var rest = p[pos..];
            var nul = rest.IndexOf((byte)0);
            plugin = Encoding.ASCII.GetString(nul < 0 ? rest : rest[..nul]);
        }

        return Done(result with
        {
            HasUpperCapabilities = true,
            Capabilities = capabilities,
            CharacterSet = charset,
            StatusFlags = status,
            MariaDbCapabilities = mariaDb,
            AuthPluginName = plugin,
        });
    }

    // Protocol::HandshakeV9: version, thread id, scramble. Servers before 3.21.0.
    private ParseStatus ParseV9(byte[] packet, ReadOnlySpan<byte> p)
    {
        var pos = 1;
        if (!TryNulString(p, ref pos, out var version) || p.Length < pos + 4)
        {
            return Fail("a protocol 9 handshake is truncated");
        }

        return Done(new MysqlResult { Packet = packet, ProtocolVersion = 9, ServerVersion = version, ConnectionId = BinaryPrimitives.ReadUInt32LittleEndian(p[pos..]) });
    }

    // ERR_Packet: 0xff, error code (2), ["#" + SQL state (5)], message. Before the handshake there is usually no SQL state.
    private ParseStatus ParseError(byte[] packet, ReadOnlySpan<byte> p)
    {
        if (p.Length < 3)
        {
            return Fail("an ERR packet without an error code");
        }

        var code = BinaryPrimitives.ReadUInt16LittleEndian(p[1..]);
        var message = p[3..];
        string? state = null;
        if (message.Length >= 6 && message[0] == (byte)'#')
        {
            state = Encoding.ASCII.GetString(message.Slice(1, 5));
            message = message[6..];
        }

        return Done(new MysqlResult { Packet = packet, ErrorCode = code, SqlState = state, ErrorMessage = Encoding.UTF8.GetString(message) });
    }

    private static bool TryNulString(ReadOnlySpan<byte> p, ref int pos, out string value)
    {
        value = string.Empty;
        var nul = p[pos..].IndexOf((byte)0);
        if (nul < 0)
        {
            return false;
        }

        value = Encoding.Latin1.GetString(p.Slice(pos, nul));
        pos += nul + 1;
        return true;
    }

    private ParseStatus Done(MysqlResult result)
    {
        Result = result;
        _status = ParseStatus.Complete;
        return _status;
    }

    private ParseStatus Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
        return _status;
    }
}
