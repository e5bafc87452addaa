namespace ExposureIndex.Grabbers.Pop3;

/// <summary>
/// The server side of a POP3 exchange that stops before USER/PASS: the greeting (RFC 1939 §4), CAPA (RFC 2449 §5)
/// with its dot-terminated multi-line answer (RFC 1939 §3), then QUIT. Pure: fed the server's bytes, it hands out
/// the next command through <see cref="TakeOutgoing"/>.
/// </summary>
internal sealed class Pop3Parser : LineConversationParser<Pop3Result>
{
    private static readonly byte[] Capa = "CAPA\r\n"u8.ToArray();
    private static readonly byte[] Quit = "QUIT\r\n"u8.ToArray();

    private readonly int _maxLines;
    private readonly List<byte> _banner = [];
    private readonly List<string> _capabilities = [];
    private Stage _stage = Stage.Greeting;
    private bool? _greetingOk;
    private string _greeting = string.Empty;
    private bool _capaSupported;

    public Pop3Parser(int maxLineLength = 4096, int maxCapabilities = 512)
        : base(maxLineLength, "a POP3 line is longer than the line cap")
    {
        _maxLines = maxCapabilities;
    }

    private enum Stage
    {
        Greeting,
        CapaStatus,
        CapaLines,
    }

    /// <summary>What is known so far; set once the greeting has arrived.</summary>
    public override Pop3Result? Result => _greetingOk is not { } ok ? null : new Pop3Result
    {
        GreetingOk = ok,
        Greeting = _greeting,
        CapaSupported = _capaSupported,
        Capabilities = [.. _capabilities],
        Banner = [.. _banner],
    };

    protected override ParseStatus EndOfStream()
    {
        switch (_stage)
        {
            case Stage.Greeting:
                // A greeting line the server never ended still counts if it is one (RFC 1939 wants CRLF, some forget).
                var rest = Lines.TakeRemainder();
                if (rest.Length == 0)
                {
                    return Fail("the server closed the connection without a greeting");
                }

                Accept(rest);
                return Status == ParseStatus.Invalid ? Status : Complete();
            case Stage.CapaLines:
                return Fail("the connection closed inside the CAPA list");
            default:
                return Complete();
        }
    }

    protected override void Accept(byte[] line)
    {
        var text = LineReader.Text(line);
        switch (_stage)
        {
            case Stage.Greeting:
                if (!TryStatus(text, out var ok, out var rest))
                {
                    Fail($"not a POP3 greeting: \"{Shorten(text)}\"");
                    return;
                }

                _banner.AddRange(line);
                _greetingOk = ok;
                _greeting = rest;
                if (ok)
                {
                    Send(Capa);
                    _stage = Stage.CapaStatus;
                }
                else
                {
                    Complete();
                }

                return;
            case Stage.CapaStatus:
                _banner.AddRange(line);
                if (TryStatus(text, out var capaOk, out _) && capaOk)
                {
                    _capaSupported = true;
                    _stage = Stage.CapaLines;
                    return;
                }

                Finish(Quit);
                return;
            case Stage.CapaLines:
                _banner.AddRange(line);
                if (text == ".")
                {
                    Finish(Quit);
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
}
