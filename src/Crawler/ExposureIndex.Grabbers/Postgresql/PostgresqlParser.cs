using System.Buffers.Binary;
using System.Text;

namespace ExposureIndex.Grabbers.Postgresql;

/// <summary>
/// The server side of PostgreSQL's start-up (protocol 3.0, "Message Flow: Start-up"): the one-byte answer to
/// SSLRequest ('S' or 'N'), then the messages that answer a StartupMessage carrying a user name and no password,
/// up to the first request for a credential, an ErrorResponse, or ReadyForQuery. Pure: fed the server's bytes, it
/// hands out SSLRequest and the StartupMessage through <see cref="TakeOutgoing"/>. After an 'S' the StartupMessage
/// goes on a new connection (the old one now expects a TLS ClientHello): see <see cref="AwaitingReconnect"/>.
/// </summary>
/// <remarks>
/// The StartupMessage asks for the made-up role "exposureindex" (a user name is not a credential) and carries one
/// protocol option, "_pq_.exposureindex_probe". PostgreSQL answers an unknown "_pq_." option with
/// NegotiateProtocolVersion before authentication and carries on (10.x+ and the 2017 minor releases of 9.3-9.6),
/// which both identifies it and names the newest protocol it speaks; PgBouncer refuses it as an unsupported startup
/// parameter. No password, hash or SASL response is ever sent.
/// </remarks>
internal sealed class PostgresqlParser : IConversationParser<PostgresqlResult>
{
    public const string ProbeUser = "exposureindex";
    public const string ProbeOption = "_pq_.exposureindex_probe";

    // SSLRequest: length 8, code 80877103 (1234 << 16 | 5679).
    private static readonly byte[] SslRequest = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

    // Terminate: 'X', length 4 - the polite goodbye when a startup completed.
    private static readonly byte[] Terminate = [(byte)'X', 0, 0, 0, 4];

    private readonly int _maxMessage;
    private readonly int _maxMessages;
    private readonly List<byte> _raw = [];
    private readonly List<byte> _message = [];
    private readonly List<int> _authCodes = [];
    private readonly List<KeyValuePair<string, string>> _parameters = [];
    private Stage _stage = Stage.SslAnswer;
    private ReadOnlyMemory<byte> _outgoing = SslRequest;
    private bool? _ssl;
    private int? _negotiated;
    private IReadOnlyList<string> _unrecognized = [];
    private IReadOnlyList<string> _sasl = [];
    private PostgresqlErrorFields? _error;
    private int _messages;

    public PostgresqlParser(int maxMessage = 64 * 1024, int maxMessages = 256)
    {
        _maxMessage = maxMessage;
        _maxMessages = maxMessages;
    }

    private enum Stage
    {
        SslAnswer,
        Messages,
        Done,
        Failed,
    }

    /// <summary>The StartupMessage: protocol 3.0, user and database "exposureindex", our probe option; no password.</summary>
    public static byte[] StartupMessage { get; } = BuildStartup();

    /// <summary>True from an 'S' until the StartupMessage is taken: it must go out on a fresh connection.</summary>
    public bool AwaitingReconnect { get; private set; }

    public PostgresqlResult? Result => _raw.Count == 0 ? null : new PostgresqlResult
    {
        SslSupported = _ssl,
        NegotiatedVersion = _negotiated,
        UnrecognizedOptions = _unrecognized,
        AuthenticationCodes = [.. _authCodes],
        SaslMechanisms = _sasl,
        Error = _error,
        Parameters = [.. _parameters],
        Raw = [.. _raw],
    };

    public string? Error { get; private set; }

    public ReadOnlyMemory<byte> TakeOutgoing()
    {
        var next = _outgoing;
        _outgoing = ReadOnlyMemory<byte>.Empty;
        if (!next.IsEmpty && _stage == Stage.Messages)
        {
            AwaitingReconnect = false;
        }

        return next;
    }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        while (!chunk.IsEmpty && _stage is Stage.SslAnswer or Stage.Messages)
        {
            if (_stage == Stage.SslAnswer)
            {
                var answer = chunk[0];
                if (answer is (byte)'S' or (byte)'N')
                {
                    _raw.Add(answer);
                    chunk = chunk[1..];
                    _ssl = answer == (byte)'S';
                    AwaitingReconnect = _ssl.Value;
                    _outgoing = StartupMessage;
                    _stage = Stage.Messages;
                    continue;
                }

                if (answer != (byte)'E')
                {
                    return Fail($"0x{answer:x2} is not a PostgreSQL answer to SSLRequest ('S', 'N' or an ErrorResponse)");
                }

                // A server too old for SSLRequest rejects it with an ErrorResponse, parsed below like any other.
                _stage = Stage.Messages;
            }

            var need = (_message.Count < 5 ? 5 : 1 + Length()) - _message.Count;
            var take = Math.Min(need, chunk.Length);
            _message.AddRange(chunk[..take]);
            _raw.AddRange(chunk[..take]);
            chunk = chunk[take..];
            if (_message.Count == 5)
            {
                var length = Length();
                if (length < 4 || length > _maxMessage)
                {
                    return Fail($"a '{Printable(_message[0])}' message claims {length} bytes (allowed 4..{_maxMessage})");
                }
            }

            if (_message.Count >= 5 && _message.Count == 1 + Length())
            {
                var type = _message[0];
                var payload = _message.GetRange(5, _message.Count - 5).ToArray();
                _message.Clear();
                if (++_messages > _maxMessages)
                {
                    return Fail($"more than {_maxMessages} messages without an end to the start-up");
                }

                Accept(type, payload);
            }
        }

        return _stage switch
        {
            Stage.Done => ParseStatus.Complete,
            Stage.Failed => ParseStatus.Invalid,
            _ => ParseStatus.NeedMore,
        };
    }

    public ParseStatus End() => _stage switch
    {
        Stage.Done => ParseStatus.Complete,
        Stage.Failed => ParseStatus.Invalid,
        Stage.SslAnswer => Fail("the server closed the connection without answering SSLRequest"),
        _ when _message.Count > 0 => Fail("the connection closed inside a message"),
        _ => Fail("the server closed the connection without answering the StartupMessage"),
    };

    private void Accept(byte type, byte[] payload)
    {
        switch ((char)type)
        {
            case 'R':
                if (payload.Length < 4)
                {
                    Fail("an Authentication message without its code");
                    return;
                }

                var code = BinaryPrimitives.ReadInt32BigEndian(payload);
                _authCodes.Add(code);
                if (code == 10)
                {
                    _sasl = NulStrings(payload.AsSpan(4));
                }

                if (code != 0)
                {
                    // The server wants a credential: this is where we stop.
                    _stage = Stage.Done;
                }

                return;
            case 'E':
                _error = ParseFields(payload);
                _stage = Stage.Done;
                return;
            case 'v':
                if (payload.Length >= 8)
                {
                    _negotiated = BinaryPrimitives.ReadInt32BigEndian(payload);
                    _unrecognized = NulStrings(payload.AsSpan(8));
                }

                return;
            case 'S':
                var pair = NulStrings(payload);
                if (pair.Count >= 2)
                {
                    _parameters.Add(new(pair[0], pair[1]));
                }

                return;
            case 'N':
            case 'K':
                return;
            case 'Z':
                // A startup that needed no password completed; leave at once.
                _outgoing = Terminate;
                _stage = Stage.Done;
                return;
            default:
                Fail($"unexpected message '{Printable(type)}' during start-up");
                return;
        }
    }

    private static PostgresqlErrorFields ParseFields(byte[] payload)
    {
        var fields = new List<KeyValuePair<char, string>>();
        var p = payload.AsSpan();
        while (p.Length > 0 && p[0] != 0)
        {
            var code = (char)p[0];
            var nul = p[1..].IndexOf((byte)0);
            var value = nul < 0 ? p[1..] : p.Slice(1, nul);
            fields.Add(new(code, Encoding.UTF8.GetString(value)));
            p = nul < 0 ? [] : p[(nul + 2)..];
        }

        return new PostgresqlErrorFields(fields);
    }

    private static List<string> NulStrings(ReadOnlySpan<byte> p)
    {
        var list = new List<string>();
        while (p.Length > 0)
        {
            var nul = p.IndexOf((byte)0);
            if (nul <= 0)
            {
                break;
            }

            list.Add(Encoding.UTF8.GetString(p[..nul]));
            p = p[(nul + 1)..];
        }

        return list;
    }

    private static byte[] BuildStartup()
    {
        var parameters = Encoding.ASCII.GetBytes($"user\0{ProbeUser}\0database\0{ProbeUser}\0{ProbeOption}\0on\0\0");
        var message = new byte[8 + parameters.Length];
        BinaryPrimitives.WriteInt32BigEndian(message, message.Length);
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4), 3 << 16); // protocol 3.0
        parameters.CopyTo(message, 8);
        return message;
    }

    private static string Printable(byte b) => b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"0x{b:x2}";

    private int Length() => BinaryPrimitives.ReadInt32BigEndian(_message.GetRange(1, 4).ToArray());

    private ParseStatus Fail(string error)
    {
        Error = error;
        _stage = Stage.Failed;
        return ParseStatus.Invalid;
    }
}
