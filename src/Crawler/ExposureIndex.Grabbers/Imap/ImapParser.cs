using System.Globalization;
using System.Text;

namespace ExposureIndex.Grabbers.Imap;

/// <summary>
/// The server side of an IMAP exchange that stops before LOGIN/AUTHENTICATE: the greeting (RFC 3501 §7.1),
/// "a001 CAPABILITY" (§6.1.1), "a002 ID NIL" when ID is offered (RFC 2971: it names the server, often with its
/// version), then LOGOUT. Pure: fed the server's bytes, it hands out the next command through
/// <see cref="TakeOutgoing"/>. Literals ({n} at a line's end, RFC 3501 §4.3) are read as part of their response.
/// </summary>
internal sealed class ImapParser : LineConversationParser<ImapResult>
{
    private static readonly byte[] CapabilityCommand = "a001 CAPABILITY\r\n"u8.ToArray();
    private static readonly byte[] IdCommand = "a002 ID NIL\r\n"u8.ToArray();
    private static readonly byte[] Logout = "a003 LOGOUT\r\n"u8.ToArray();

    private readonly int _maxResponseLength;
    private readonly int _maxResponses;
    private readonly List<byte> _banner = [];
    private readonly StringBuilder _response = new();
    private readonly List<byte> _responseRaw = [];
    private int _literalRemaining;
    private int _responsesInStage;
    private Stage _stage = Stage.Greeting;
    private string? _greetingStatus;
    private string _greeting = string.Empty;
    private IReadOnlyList<string> _greetingCapabilities = [];
    private IReadOnlyList<string> _capabilities = [];
    private IReadOnlyList<KeyValuePair<string, string>> _id = [];

    public ImapParser(int maxLineLength = 8192, int maxResponseLength = 65536, int maxResponses = 512)
        : base(maxLineLength, "an IMAP line is longer than the line cap")
    {
        _maxResponseLength = maxResponseLength;
        _maxResponses = maxResponses;
    }

    private enum Stage
    {
        Greeting,
        Capability,
        Id,
    }

    /// <summary>What is known so far; set once the greeting has arrived.</summary>
    public override ImapResult? Result => _greetingStatus is null ? null : new ImapResult
    {
        GreetingStatus = _greetingStatus,
        Greeting = _greeting,
        GreetingCapabilities = _greetingCapabilities,
        CommandCapabilities = _capabilities,
        Id = _id,
        Banner = [.. _banner],
    };

    /// <summary>A literal's announced bytes are part of the response, whatever they contain; then lines again.</summary>
    protected override bool ReadNext(ref ReadOnlySpan<byte> input)
    {
        if (_literalRemaining == 0)
        {
            return base.ReadNext(ref input);
        }

        if (input.IsEmpty)
        {
            return false;
        }

        var take = Math.Min(_literalRemaining, input.Length);
        _response.Append(Encoding.Latin1.GetString(input[..take]));
        _responseRaw.AddRange(input[..take]);
        input = input[take..];
        _literalRemaining -= take;
        return true;
    }

    protected override void Accept(byte[] line)
    {
        _responseRaw.AddRange(line);
        var text = LineReader.Text(line);
        _response.Append(text);
        if (_response.Length > _maxResponseLength)
        {
            Fail($"an IMAP response runs past {_maxResponseLength} bytes");
            return;
        }

        if (TryLiteralLength(text, out var literal))
        {
            if (literal > _maxResponseLength - _response.Length)
            {
                Fail($"an IMAP literal of {literal} bytes exceeds the response cap");
                return;
            }

            _response.Append("\r\n");
            _literalRemaining = literal;
            return;
        }

        var response = _response.ToString();
        var responseRaw = _responseRaw.ToArray();
        _response.Clear();
        _responseRaw.Clear();
        AcceptResponse(response, responseRaw);
    }

    protected override ParseStatus EndOfStream()
    {
        var inResponse = Lines.Pending > 0 || _response.Length > 0;
        if (_stage == Stage.Greeting)
        {
            return Fail(inResponse ? "the connection closed inside the greeting" : "the server closed the connection without a greeting");
        }

        return inResponse || _literalRemaining > 0 ? Fail("the connection closed inside a response") : Complete();
    }

    private void AcceptResponse(string response, byte[] raw)
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
                Send(IdCommand);
                _stage = Stage.Id;
                _responsesInStage = 0;
                return;
            }

            Finish(Logout);
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
            Complete();
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
            Fail($"not an IMAP greeting: \"{Shorten(response)}\"");
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
            Complete();
            return;
        }

        Send(CapabilityCommand);
        _stage = Stage.Capability;
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
}
