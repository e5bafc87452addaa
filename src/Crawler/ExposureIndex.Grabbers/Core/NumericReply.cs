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
/// Reads the numeric replies of FTP (RFC 959 §4.2) and SMTP (RFC 5321 §4.2.1) from a byte stream in chunks of any
/// size. A reply is "ddd text" on one line, or starts with "ddd-" and runs until a line that starts with the same
/// code and a space. FTP lets the lines in between be anything, so they are kept whole unless they carry the
/// "ddd-" prefix. Bounded: a line over the length cap, or a reply over the line cap, is an error, not a buffer.
/// </summary>
public sealed class NumericReplyReader
{
    private readonly LineReader _lines;
    private readonly int _maxLines;
    private readonly List<string> _current = [];
    private readonly List<byte> _raw = [];
    private int _code = -1;

    public NumericReplyReader(int maxLineLength = 4096, int maxLines = 512)
    {
        _lines = new LineReader(maxLineLength);
        _maxLines = maxLines;
        MaxLineLength = maxLineLength;
    }

    public int MaxLineLength { get; }

    /// <summary>Why the stream is not a reply, once <see cref="TryRead"/> returned Invalid.</summary>
    public string? Error { get; private set; }

    /// <summary>True while a reply has started but not ended.</summary>
    public bool InReply => _code >= 0 || _lines.Pending > 0;

    /// <summary>Reads the next whole reply from <paramref name="input"/>, advancing it; NeedMore when the input ran out first.</summary>
    public ParseStatus TryRead(ref ReadOnlySpan<byte> input, out NumericReply? reply)
    {
        reply = null;
        if (Error is not null)
        {
            return ParseStatus.Invalid;
        }

        while (true)
        {
            var status = _lines.TryRead(ref input, out var raw);
            if (status == LineStatus.NeedMore)
            {
                return ParseStatus.NeedMore;
            }

            if (status == LineStatus.TooLong)
            {
                return Fail($"a reply line is longer than {MaxLineLength} bytes");
            }

            _raw.AddRange(raw);
            var text = LineReader.Text(raw);
            if (_code < 0)
            {
                // First line: "ddd", "ddd text" or "ddd-text" (RFC 959 §4.2: first digit 1-5, second 0-5).
                if (!TryCode(text, out var code) || (text.Length > 3 && text[3] is not (' ' or '-')))
                {
                    return Fail($"not a numeric reply: \"{Shorten(text)}\"");
                }

                var more = text.Length > 3 && text[3] == '-';
                _current.Add(text.Length > 4 ? text[4..] : string.Empty);
                if (!more)
                {
                    reply = Finish(code);
                    return ParseStatus.Complete;
                }

                _code = code;
                continue;
            }

            if (_current.Count >= _maxLines)
            {
                return Fail($"a multi-line {_code} reply runs past {_maxLines} lines");
            }

            if (TryCode(text, out var lineCode) && lineCode == _code && (text.Length == 3 || text[3] == ' '))
            {
                _current.Add(text.Length > 4 ? text[4..] : string.Empty);
                reply = Finish(_code);
                return ParseStatus.Complete;
            }

            var prefixed = TryCode(text, out var innerCode) && innerCode == _code && text.Length > 3 && text[3] == '-';
            _current.Add(prefixed ? text[4..] : text);
        }
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

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "...";

    private NumericReply Finish(int code)
    {
        var reply = new NumericReply(code, _current.ToArray(), _raw.ToArray());
        _current.Clear();
        _raw.Clear();
        _code = -1;
        return reply;
    }

    private ParseStatus Fail(string error)
    {
        Error = error;
        return ParseStatus.Invalid;
    }
}
