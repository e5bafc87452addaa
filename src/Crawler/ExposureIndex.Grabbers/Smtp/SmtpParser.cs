using System.Text;

namespace ExposureIndex.Grabbers.Smtp;

/// <summary>
/// The server side of an SMTP exchange that stops before any mail or authentication: greeting, EHLO (RFC 5321
/// §4.1.1.1; HELO when EHLO is refused, as §3.2 says an old server may), then QUIT. Pure: fed the server's bytes,
/// it hands out the next command through <see cref="IConversationParser{TResult}.TakeOutgoing"/>.
/// </summary>
internal sealed class SmtpParser : NumericConversationParser<SmtpResult>
{
    public const string DefaultHeloName = "exposureindex.invalid";

    private static readonly byte[] Quit = "QUIT\r\n"u8.ToArray();

    private readonly string _heloName;
    private readonly List<byte> _banner = [];
    private Stage _stage = Stage.Greeting;
    private NumericReply? _greeting;
    private bool _esmtp;
    private string? _hostname;
    private IReadOnlyList<string> _extensions = [];

    /// <param name="heloName">The name we give in EHLO/HELO: a domain (RFC 5321 §4.1.1.1); ".invalid" says we have none to offer.</param>
    public SmtpParser(string heloName = DefaultHeloName, int maxLineLength = 4096, int maxLinesPerReply = 512)
        : base(maxLineLength, maxLinesPerReply)
    {
        _heloName = heloName;
    }

    private enum Stage
    {
        Greeting,
        Ehlo,
        Helo,
    }

    /// <summary>What is known so far; set once the greeting has arrived.</summary>
    public override SmtpResult? Result => _greeting is null ? null : new SmtpResult
    {
        GreetingCode = _greeting.Code,
        Greeting = _greeting.Lines,
        Esmtp = _esmtp,
        Hostname = _hostname,
        Extensions = _extensions,
        Banner = [.. _banner],
    };

    protected override string? AwaitedCommand => _stage switch
    {
        Stage.Greeting => null,
        Stage.Ehlo => "EHLO",
        _ => "HELO",
    };

    protected override void AcceptReply(NumericReply reply)
    {
        _banner.AddRange(reply.Raw);
        switch (_stage)
        {
            case Stage.Greeting:
                _greeting = reply;
                if (reply.Code == 220)
                {
                    Send(Command("EHLO"));
                    _stage = Stage.Ehlo;
                }
                else
                {
                    // 554 "no SMTP service here" or 421: RFC 5321 §3.1 says wait for QUIT, but nothing more is to be learned.
                    Finish(Quit);
                }

                return;
            case Stage.Ehlo when reply.Code == 250:
                _esmtp = true;
                TakeHello(reply);
                _extensions = reply.Lines.Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
                Finish(Quit);
                return;
            case Stage.Ehlo when reply.Class == 5 && reply.Code != 554:
                // 500/502: EHLO unknown; an RFC 821 server still speaks HELO.
                Send(Command("HELO"));
                _stage = Stage.Helo;
                return;
            case Stage.Ehlo:
                Finish(Quit);
                return;
            case Stage.Helo:
                if (reply.Code == 250)
                {
                    TakeHello(reply);
                }

                Finish(Quit);
                return;
        }
    }

    private void TakeHello(NumericReply reply)
    {
        var first = reply.Lines.Count > 0 ? reply.Lines[0].Trim() : string.Empty;
        var space = first.IndexOf(' ', StringComparison.Ordinal);
        _hostname = (space < 0 ? first : first[..space]) is { Length: > 0 } name ? name : null;
    }

    private byte[] Command(string verb) => Encoding.ASCII.GetBytes($"{verb} {_heloName}\r\n");
}
