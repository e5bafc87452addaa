using System.Text;

namespace ExposureIndex.Grabbers.Smtp;

/// <summary>
/// The server side of an SMTP exchange that stops before any mail or authentication: greeting, EHLO (RFC 5321
/// §4.1.1.1; HELO when EHLO is refused, as §3.2 says an old server may), then QUIT. Pure: fed the server's bytes,
/// it hands out the next command through <see cref="TakeOutgoing"/>.
/// </summary>
internal sealed class SmtpParser : IConversationParser<SmtpResult>
{
    private static readonly byte[] Quit = "QUIT\r\n"u8.ToArray();

    private readonly NumericReplyReader _reader;
    private readonly string _heloName;
    private readonly List<byte> _banner = [];
    private Stage _stage = Stage.Greeting;
    private ReadOnlyMemory<byte> _outgoing;
    private NumericReply? _greeting;
    private bool _esmtp;
    private string? _hostname;
    private IReadOnlyList<string> _extensions = [];

    /// <param name="heloName">The name we give in EHLO/HELO: a domain (RFC 5321 §4.1.1.1); ".invalid" says we have none to offer.</param>
    public SmtpParser(string heloName = DefaultHeloName, int maxLineLength = 4096, int maxLinesPerReply = 512)
    {
        _heloName = heloName;
        _reader = new NumericReplyReader(maxLineLength, maxLinesPerReply);
    }

    public const string DefaultHeloName = "exposureindex.invalid";

    private enum Stage
    {
        Greeting,
        Ehlo,
        Helo,
        Done,
        Failed,
    }

    /// <summary>What is known so far; set once the greeting has arrived.</summary>
    public SmtpResult? Result => _greeting is null ? null : new SmtpResult
    {
        GreetingCode = _greeting.Code,
        Greeting = _greeting.Lines,
        Esmtp = _esmtp,
        Hostname = _hostname,
        Extensions = _extensions,
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
            var status = _reader.TryRead(ref chunk, out var reply);
            if (status == ParseStatus.NeedMore)
            {
                return ParseStatus.NeedMore;
            }

            if (status == ParseStatus.Invalid)
            {
                return Fail(_reader.Error!);
            }

            Accept(reply!);
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
                return Fail(_reader.InReply ? "the connection closed inside the greeting" : "the server closed the connection without a greeting");
            default:
                if (_reader.InReply)
                {
                    return Fail($"the connection closed inside the {(_stage == Stage.Ehlo ? "EHLO" : "HELO")} reply");
                }

                // Greeted, then hung up on EHLO/HELO: the greeting is the answer.
                _stage = Stage.Done;
                return ParseStatus.Complete;
        }
    }

    private void Accept(NumericReply reply)
    {
        _banner.AddRange(reply.Raw);
        switch (_stage)
        {
            case Stage.Greeting:
                _greeting = reply;
                if (reply.Code == 220)
                {
                    _outgoing = Command("EHLO");
                    _stage = Stage.Ehlo;
                }
                else
                {
                    // 554 "no SMTP service here" or 421: RFC 5321 §3.1 says wait for QUIT, but nothing more is to be learned.
                    _outgoing = Quit;
                    _stage = Stage.Done;
                }

                return;
            case Stage.Ehlo when reply.Code == 250:
                _esmtp = true;
                TakeHello(reply);
                _extensions = reply.Lines.Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
                Finish();
                return;
            case Stage.Ehlo when reply.Class == 5 && reply.Code != 554:
                // 500/502: EHLO unknown; an RFC 821 server still speaks HELO.
                _outgoing = Command("HELO");
                _stage = Stage.Helo;
                return;
            case Stage.Ehlo:
                Finish();
                return;
            case Stage.Helo:
                if (reply.Code == 250)
                {
                    TakeHello(reply);
                }

                Finish();
                return;
        }
    }

    private void TakeHello(NumericReply reply)
    {
        var first = reply.Lines.Count > 0 ? reply.Lines[0].Trim() : string.Empty;
        var space = first.IndexOf(' ', StringComparison.Ordinal);
        _hostname = (space < 0 ? first : first[..space]) is { Length: > 0 } name ? name : null;
    }

    private void Finish()
    {
        _outgoing = Quit;
        _stage = Stage.Done;
    }

    private byte[] Command(string verb) => Encoding.ASCII.GetBytes($"{verb} {_heloName}\r\n");

    private ParseStatus Fail(string error)
    {
        Error = error;
        _stage = Stage.Failed;
        return ParseStatus.Invalid;
    }
}
