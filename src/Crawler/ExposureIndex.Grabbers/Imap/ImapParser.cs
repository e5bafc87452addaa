using System.Globalization;
using System.Text;

namespace ExposureIndex.Grabbers.Imap;

/// <summary>
/// The server side of an IMAP exchange that stops before LOGIN/AUTHENTICATE: the greeting (RFC 3501 §7.1),
/// "a001 CAPABILITY" (§6.1.1), "a002 ID NIL" when ID is offered (RFC 2971: it names the server, often with its
/// version), then LOGOUT. Pure: fed the server's bytes, it hands out the next command through
/// <see cref="TakeOutgoing"/>. Literals ({n} at a line's end, RFC 3501 §4.3) are read as part of their response.
/// </summary>
internal sealed class ImapParser : IConversationParser<ImapResult>
{
    private static readonly byte[] CapabilityCommand = "a001 CAPABILITY\r\n"u8.ToArray();
    private static readonly byte[] IdCommand = "a002 ID NIL\r\n"u8.ToArray();
    private static readonly byte[] Logout = "a003 LOGOUT\r\n"u8.ToArray();

    private readonly LineReader _lines;
    private readonly int _maxResponseLength;
    private readonly int _maxResponses;
    private readonly List<byte> _banner = [];
    private readonly StringBuilder _response = new();
    private readonly List<byte> _responseRaw = [];
    private int _literalRemaining;
    private int _responsesInStage;
    private Stage _stage = Stage.Greeting;
    private ReadOnlyMemory<byte> _outgoing;
    private string? _greetingStatus;
    private string _greeting = string.Empty;
    private IReadOnlyList<string> _greetingCapabilities = [];
    private IReadOnlyList<string> _capabilities = [];
    private IReadOnlyList<KeyValuePair<string, string>> _id = [];

    public ImapParser(int maxLineLength = 8192, int maxResponseLength = 65536, int maxResponses = 512)
    {
        _lines = new LineReader(maxLineLength);
        _maxResponseLength = maxResponseLength;
        _maxResponses = maxResponses;
    }

    private enum Stage
    {
        Greeting,
        Capability,
        Id,
        Done,
        Failed,
    }

    /// <summary>What is known so far; set once the greeting has arrived.</summary>
    public ImapResult? Result => _greetingStatus is null ? null : new ImapResult
    {
        GreetingStatus = _greetingStatus,
        Greeting = _greeting,
        GreetingCapabilities = _greetingCapabilities,
        CommandCapabilities = _capabilities,
        Id = _id,
        Banner = [.. _banner],
    };

    public string? Error { get; private set; }

    public ReadOnlyMemory<byte> TakeOutgoing()
    {
        var next = _outgoing;
        _outgoing = ReadOnlyMemory<byte>.Empty;
        return next;
    }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        while (_stage is not (Stage.Done or Stage.Failed))
        {
            if (_literalRemaining > 0)
            {
                if (chunk.IsEmpty)
                {
                    return ParseStatus.NeedMore;
                }

                var take = Math.Min(_literalRemaining, chunk.Length);
                _response.Append(Encoding.Latin1.GetString(chunk[..take]));
                _responseRaw.AddRange(chunk[..take]);
                chunk = chunk[take..];
                _literalRemaining -= take;
                continue;
            }

            var status = _lines.TryRead(ref chunk, out var raw);
            if (status == LineStatus.NeedMore)
            {
                return ParseStatus.NeedMore;
            }

            if (status == LineStatus.TooLong)
            {
                return Fail("an IMAP line is longer than the line cap");
            }

            _responseRaw.AddRange(raw);
            var text = LineReader.Text(raw);
            _response.Append(text);
            if (_response.Length > _maxResponseLength)
            {
                return Fail($"an IMAP response runs past {_maxResponseLength} bytes");
            }

            if (TryLiteralLength(text, out var literal))
            {
                if (literal > _maxResponseLength - _response.Length)
                {
                    return Fail($"an IMAP literal of {literal} bytes exceeds the response cap");
                }

                _response.Append("\r\n");
                _literalRemaining = literal;
                continue;
            }

            var response = _response.ToString();
            var responseRaw = _responseRaw.ToArray();
            _response.Clear();
            _responseRaw.Clear();
            Accept(response, responseRaw);
        }

        return _stage == Stage.Done ? ParseStatus.Complete : ParseStatus.Invalid;
    }

    public ParseStatus End()
    {
        switch (_stage)
        {
            case Stage.Done:
                return ParseStatus.Complete;
            case Stage.Failed:
                return ParseStatus.Invalid;
            case Stage.Greeting:
                return Fail(_lines.Pending > 0 || _response.Length > 0 ? "the connection closed inside the greeting" : "the server closed the connection without a greeting");
            default:
                if (_lines.Pending > 0 || _response.Length > 0 || _literalRemaining > 0)
                {
                    return Fail("the connection closed inside a response");
                }

                _stage = Stage.Done;
                return ParseStatus.Complete;
        }
    }

    private void Accept(string response, byte[] raw)
    {
        if (_stage == Stage.Greeting)
        {
            AcceptGreeting(response, raw);
            return;
        }

        if (++_responsesInStage > _maxResponses)
        {
            Fail($"more than {_maxResponses} responses without the tagged completion");
            return;
        }

        var tag = _stage == Stage.Capability ? "a001 " : "a002 ";
        if (response.StartsWith(tag, StringComparison.OrdinalIgnoreCase))
        {
            _banner.AddRange(raw);
            if (_stage == Stage.Capability && Offers("ID"))
            {
                _outgoing = IdCommand;
                _stage = Stage.Id;
                _responsesInStage = 0;
                return;
            }

            Finish();
            return;
        }

        if (StartsWithWord(response, "* CAPABILITY"))
        {
            _banner.AddRange(raw);
            _capabilities = Atoms(response["* CAPABILITY".Length..]);
        }
        else if (_stage == Stage.Id && StartsWithWord(response, "* ID"))
        {
            _banner.AddRange(raw);
            _id = ParseId(response["* ID".Length..]);
        }
        else if (StartsWithWord(response, "* BYE"))
        {
            // The server is leaving (RFC 3501 §7.1.5); what we have is all there is.
            _banner.AddRange(raw);
            _stage = Stage.Done;
        }
    }

    private bool Offers(string capability) => (_capabilities.Count > 0 ? _capabilities : _greetingCapabilities).Contains(capability, StringComparer.OrdinalIgnoreCase);

    private void AcceptGreeting(string response, byte[] raw)
    {
        string status;
        if (StartsWithWord(response, "* OK"))
        {
            status = "OK";
        }
        else if (StartsWithWord(response, "* PREAUTH"))
        {
            status = "PREAUTH";
        }
        else if (StartsWithWord(response, "* BYE"))
        {
            status = "BYE";
        }
        else
        {
            Fail($"not an IMAP greeting: \"{(response.Length <= 60 ? response : response[..60] + "...")}\"");
            return;
        }

        _banner.AddRange(raw);
        _greetingStatus = status;
        var rest = response[(2 + status.Length)..].TrimStart();
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close > 0)
            {
                var code = rest[1..close];
                if (StartsWithWord(code, "CAPABILITY"))
                {
                    _greetingCapabilities = Atoms(code["CAPABILITY".Length..]);
                }

                rest = rest[(close + 1)..].TrimStart();
            }
        }

        _greeting = rest;
        if (status == "BYE")
        {
            _stage = Stage.Done;
            return;
        }

        _outgoing = CapabilityCommand;
        _stage = Stage.Capability;
    }

    private void Finish()
    {
        _outgoing = Logout;
        _stage = Stage.Done;
    }

    private static bool StartsWithWord(string text, string word)
        => text.StartsWith(word, StringComparison.OrdinalIgnoreCase) && (text.Length == word.Length || text[word.Length] == ' ');

    private static List<string> Atoms(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    // "{123}" or "{123+}" (LITERAL+, RFC 7888) ends the line: 123 octets follow.
    private static bool TryLiteralLength(string line, out int length)
    {
        length = 0;
        if (!line.EndsWith('}'))
        {
            return false;
        }

        var open = line.LastIndexOf('{');
        if (open < 0)
        {
            return false;
        }

        var digits = line.AsSpan(open + 1, line.Length - open - 2).TrimEnd('+');
        return digits.Length is > 0 and <= 9 && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out length);
    }

    /// <summary>
    /// RFC 2971 §4: id-response = "ID" SP ( "(" *( string SP nstring ) ")" / nil ). Strings are quoted (with \" and \\
    /// escapes) or literals, which arrive inline here as "{n}\r\n" and n characters.
    /// </summary>
    internal static IReadOnlyList<KeyValuePair<string, string>> ParseId(string text)
    {
        var tokens = new List<string?>();
        var i = 0;
        var s = text.Trim();
        if (!s.StartsWith('('))
        {
            return [];
        }

        i = 1;
        while (i < s.Length && s[i] != ')' && tokens.Count < 64)
        {
            if (s[i] == ' ')
            {
                i++;
                continue;
            }

            if (s[i] == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (i < s.Length && s[i] != '"')
                {
                    if (s[i] == '\\' && i + 1 < s.Length)
                    {
                        i++;
                    }

                    sb.Append(s[i]);
                    i++;
                }

                i++;
                tokens.Add(sb.ToString());
            }
            else if (s[i] == '{')
            {
                var close = s.IndexOf('}', i);
                if (close < 0 || !int.TryParse(s.AsSpan(i + 1, close - i - 1).TrimEnd('+'), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                {
                    break;
                }

                var start = close + 3; // "}\r\n"
                if (start + n > s.Length)
                {
                    break;
                }

                tokens.Add(s.Substring(start, n));
                i = start + n;
            }
            else
            {
                var end = i;
                while (end < s.Length && s[end] is not (' ' or ')'))
                {
                    end++;
                }

                var atom = s[i..end];
                tokens.Add(atom.Equals("NIL", StringComparison.OrdinalIgnoreCase) ? null : atom);
                i = end;
            }
        }

        var pairs = new List<KeyValuePair<string, string>>();
        for (var k = 0; k + 1 < tokens.Count; k += 2)
        {
            if (tokens[k] is { } key && tokens[k + 1] is { } value)
            {
                pairs.Add(new KeyValuePair<string, string>(key, value));
            }
        }

        return pairs;
    }

    private ParseStatus Fail(string error)
    {
        Error = error;
        _stage = Stage.Failed;
        return ParseStatus.Invalid;
    }
}
