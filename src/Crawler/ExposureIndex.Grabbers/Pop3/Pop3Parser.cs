namespace ExposureIndex.Grabbers.Pop3;

/// <summary>
/// The server side of a POP3 exchange that stops before USER/PASS: the greeting (RFC 1939 §4), CAPA (RFC 2449 §5)
/// with its dot-terminated multi-line answer (RFC 1939 §3), then QUIT. Pure: fed the server's bytes, it hands out
/// the next command through <see cref="TakeOutgoing"/>.
/// </summary>
internal sealed class Pop3Parser : IConversationParser<Pop3Result>
{
    private static readonly byte[] Capa = "CAPA\r\n"u8.ToArray();
    private static readonly byte[] Quit = "QUIT\r\n"u8.ToArray();

    private readonly LineReader _lines;
    private readonly int _maxLines;
    private readonly List<byte> _banner = [];
    private readonly List<string> _capabilities = [];
    private Stage _stage = Stage.Greeting;
    private ReadOnlyMemory<byte> _outgoing;
    private bool? _greetingOk;
    private string _greeting = string.Empty;
    private bool _capaSupported;

    public Pop3Parser(int maxLineLength = 4096, int maxCapabilities = 512)
    {
        _lines = new LineReader(maxLineLength);
        _maxLines = maxCapabilities;
    }

    private enum Stage
    {
        Greeting,
        CapaStatus,
        CapaLines,
        Done,
        Failed,
    }

    /// <summary>What is known so far; set once the greeting has arrived.</summary>
    public Pop3Result? Result => _greetingOk is not { } ok ? null : new Pop3Result
    {
        GreetingOk = ok,
        Greeting = _greeting,
        CapaSupported = _capaSupported,
        Capabilities = [.. _capabilities],
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
            var status = _lines.TryRead(ref chunk, out var raw);
            if (status == LineStatus.NeedMore)
            {
                return ParseStatus.NeedMore;
            }

            if (status == LineStatus.TooLong)
            {
                return Fail("a POP3 line is longer than the line cap");
            }

            Accept(raw);
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
                // A greeting line the server never ended still counts if it is one (RFC 1939 wants CRLF, some forget).
                var rest = _lines.TakeRemainder();
                if (rest.Length > 0)
                {
                    Accept(rest);
                    if (_stage == Stage.Failed)
                    {
                        return ParseStatus.Invalid;
                    }

                    _stage = Stage.Done;
                    return ParseStatus.Complete;
                }

                return Fail("the server closed the connection without a greeting");
            case Stage.CapaLines:
                return Fail("the connection closed inside the CAPA list");
            default:
                _stage = Stage.Done;
                return ParseStatus.Complete;
        }
    }

    private void Accept(byte[] raw)
    {
        var text = LineReader.Text(raw);
        switch (_stage)
        {
            case Stage.Greeting:
                if (!TryStatus(text, out var ok, out var rest))
                {
                    Fail($"not a POP3 greeting: \"{Shorten(text)}\"");
                    return;
                }

                _banner.AddRange(raw);
                _greetingOk = ok;
                _greeting = rest;
                if (ok)
                {
                    _outgoing = Capa;
                    _stage = Stage.CapaStatus;
                }
                else
                {
                    _stage = Stage.Done;
                }

                return;
            case Stage.CapaStatus:
                _banner.AddRange(raw);
                if (TryStatus(text, out var capaOk, out _) && capaOk)
                {
                    _capaSupported = true;
                    _stage = Stage.CapaLines;
                    return;
                }

                Finish();
                return;
            case Stage.CapaLines:
                _banner.AddRange(raw);
                if (text == ".")
                {
                    Finish();
                    return;
                }

                if (_capabilities.Count >= _maxLines)
                {
                    Fail($"the CAPA list runs past {_maxLines} lines");
                    return;
                }

                // RFC 1939 §3: a line starting with the termination octet is dot-stuffed.
                _capabilities.Add(text.StartsWith('.') ? text[1..] : text);
                return;
        }
    }

    private static bool TryStatus(string text, out bool ok, out string rest)
    {
        ok = text.StartsWith("+OK", StringComparison.OrdinalIgnoreCase);
        var err = !ok && text.StartsWith("-ERR", StringComparison.OrdinalIgnoreCase);
        rest = ok ? text[3..].Trim() : err ? text[4..].Trim() : string.Empty;
        return ok || err;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "...";

    private void Finish()
    {
        _outgoing = Quit;
        _stage = Stage.Done;
    }

    private ParseStatus Fail(string error)
    {
        Error = error;
        _stage = Stage.Failed;
        return ParseStatus.Invalid;
    }
}
