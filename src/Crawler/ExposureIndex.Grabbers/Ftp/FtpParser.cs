namespace ExposureIndex.Grabbers.Ftp;

/// <summary>
/// The server side of our pre-login FTP exchange: the greeting (a 1yz "service ready in n minutes" may come
/// first), then FEAT (RFC 2389), then SYST (RFC 959 §4.1.3), then QUIT. Pure: fed the server's bytes, it hands out
/// the next command through <see cref="IConversationParser{TResult}.TakeOutgoing"/>.
/// </summary>
/// <remarks>
/// We never send USER or PASS, not even for anonymous FTP (which Shodan tries): the grabber sends no credentials
/// at all, so whether anonymous login works is not ours to know.
/// </remarks>
internal sealed class FtpParser : NumericConversationParser<FtpResult>
{
    private static readonly byte[] Feat = "FEAT\r\n"u8.ToArray();
    private static readonly byte[] Syst = "SYST\r\n"u8.ToArray();
    private static readonly byte[] Quit = "QUIT\r\n"u8.ToArray();

    private readonly List<byte> _banner = [];
    private Stage _stage = Stage.Greeting;
    private NumericReply? _greeting;
    private bool _featSupported;
    private List<FtpFeature> _features = [];
    private int? _systCode;
    private string? _system;

    public FtpParser(int maxLineLength = 4096, int maxLinesPerReply = 512)
        : base(maxLineLength, maxLinesPerReply)
    {
    }

    private enum Stage
    {
        Greeting,
        Feat,
        Syst,
    }

    /// <summary>What is known so far; set once the greeting has arrived.</summary>
    public override FtpResult? Result => _greeting is null ? null : new FtpResult
    {
        GreetingCode = _greeting.Code,
        Greeting = _greeting.Lines,
        FeatSupported = _featSupported,
        Features = _features,
        SystCode = _systCode,
        System = _system,
        Banner = [.. _banner],
    };

    protected override string? AwaitedCommand => _stage switch
    {
        Stage.Greeting => null,
        Stage.Feat => "FEAT",
        _ => "SYST",
    };

    protected override void AcceptReply(NumericReply reply)
    {
        _banner.AddRange(reply.Raw);
        switch (_stage)
        {
            case Stage.Greeting:
                if (reply.Class == 1)
                {
                    // 120 "service ready in nnn minutes": the real greeting follows (RFC 959 §5.4).
                    return;
                }

                _greeting = reply;
                if (reply.Code == 220)
                {
                    Send(Feat);
                    _stage = Stage.Feat;
                }
                else
                {
                    // 421 and friends: the server will not talk to us.
                    Complete();
                }

                return;
            case Stage.Feat:
                if (reply.Code == 211)
                {
                    _featSupported = true;
                    _features = ParseFeatures(reply.Lines);
                }

                Send(Syst);
                _stage = Stage.Syst;
                return;
            case Stage.Syst:
                _systCode = reply.Code;
                if (reply.Code == 215)
                {
                    _system = reply.Text.Trim();
                }

                Finish(Quit);
                return;
        }
    }

    /// <summary>
    /// RFC 2389 §3.2: between "211-" and "211 End" each feature is on its own line, led by one space. Servers that
    /// forget the space are accepted; the same feature on several lines ("AUTH TLS", "AUTH SSL") is merged.
    /// </summary>
    private static List<FtpFeature> ParseFeatures(IReadOnlyList<string> lines)
    {
        var features = new List<FtpFeature>();
        for (var i = 1; i < lines.Count - 1; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var name = (space < 0 ? line : line[..space]).ToUpperInvariant();
            var parameters = space < 0 ? [] : line[(space + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var existing = features.FindIndex(f => f.Name == name);
            if (existing >= 0)
            {
                features[existing] = features[existing] with { Parameters = [.. features[existing].Parameters, .. parameters.Where(p => !features[existing].Parameters.Contains(p))] };
            }
            else
            {
                features.Add(new FtpFeature(name, parameters));
            }
        }

        return features;
    }
}
