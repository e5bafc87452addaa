namespace ExposureIndex.Grabbers;

/// <summary>
/// One FTP/SMTP-style reply: a three-digit code and its text lines (the "ddd-"/"ddd " prefixes removed).
/// <see cref="Raw"/> holds the reply exactly as received.
/// </summary>
public sealed record NumericReply(int Code, IReadOnlyList<string> Lines, byte[] Raw)
{
    /// <summary>The text of all lines, one per line.</summary>
    public string Text => string.Join('\n', Lines);

    /// <summary>1yz preliminary, 2yz completion, 3yz intermediate, 4yz transient failure, 5yz permanent failure.</summary>
    public int Class => Code / 100;
}

/// <summary>
/// A line conversation made of the numeric replies of FTP (RFC 959 §4.2) and SMTP (RFC 5321 §4.2.1); the protocol
/// sees whole replies (<see cref="AcceptReply"/>). A reply is "ddd text" on one line, or starts with "ddd-" and runs
/// until a line that starts with the same code and a space. FTP lets the lines in between be anything, so they are
/// kept whole unless they carry the "ddd-" prefix. Bounded: a line over the length cap, or a reply over the line
/// cap, is an error, not a buffer.
/// </summary>
internal abstract class NumericConversationParser<TResult> : LineConversationParser<TResult>
    where TResult : class
{
    private readonly int _maxLines;
    private readonly List<string> _current = [];
    private readonly List<byte> _raw = [];
    private int _code = -1;

    protected NumericConversationParser(int maxLineLength, int maxLinesPerReply)
        : base(maxLineLength, $"a reply line is longer than {maxLineLength} bytes")
    {
        _maxLines = maxLinesPerReply;
    }

    /// <summary>The command whose reply is awaited ("FEAT", "EHLO"), or null while the greeting is.</summary>
    protected abstract string? AwaitedCommand { get; }

    private bool InReply => _code >= 0 || Lines.Pending > 0;

    /// <summary>One whole reply.</summary>
    protected abstract void AcceptReply(NumericReply reply);

    /// <summary>
    /// A close inside the greeting or inside a reply is an error. A close between replies, once greeted, ends the
    /// exchange with what is known: the server hung up on a command, and the greeting is the answer.
    /// </summary>
    protected sealed override ParseStatus EndOfStream()
    {
        if (AwaitedCommand is not { } command)
        {
            return Fail(InReply ? "the connection closed inside the greeting" : "the server closed the connection without a greeting");
        }

        return InReply ? Fail($"the connection closed inside the {command} reply") : Complete();
    }

    protected sealed override void Accept(byte[] line)
    {
        _raw.AddRange(line);
        var text = LineReader.Text(line);
        if (_code < 0)
        {
            // First line: "ddd", "ddd text" or "ddd-text" (RFC 959 §4.2: first digit 1-5, second 0-5).
            if (!TryCode(text, out var code) || (text.Length > 3 && text[3] is not (' ' or '-')))
            {
                Fail($"not a numeric reply: \"{Shorten(text)}\"");
                return;
            }

            _current.Add(text.Length > 4 ? text[4..] : string.Empty);
            if (text.Length > 3 && text[3] == '-')
            {
                _code = code;
                return;
            }

            AcceptReply(TakeReply(code));
            return;
        }

        if (_current.Count >= _maxLines)
        {
            Fail($"a multi-line {_code} reply runs past {_maxLines} lines");
            return;
        }

        if (TryCode(text, out var lineCode) && lineCode == _code && (text.Length == 3 || text[3] == ' '))
        {
            _current.Add(text.Length > 4 ? text[4..] : string.Empty);
            AcceptReply(TakeReply(_code));
            return;
        }

        var prefixed = TryCode(text, out var innerCode) && innerCode == _code && text.Length > 3 && text[3] == '-';
        _current.Add(prefixed ? text[4..] : text);
    }

    private static bool TryCode(string text, out int code)
    {
        code = 0;
        if (text.Length < 3 || text[0] is < '1' or > '5' || text[1] is < '0' or > '5' || !char.IsAsciiDigit(text[2]))
        {
            return false;
        }

        code = ((text[0] - '0') * 100) + ((text[1] - '0') * 10) + (text[2] - '0');
        return true;
    }

    private NumericReply TakeReply(int code)
    {
        var reply = new NumericReply(code, _current.ToArray(), _raw.ToArray());
        _current.Clear();
        _raw.Clear();
        _code = -1;
        return reply;
    }
}
