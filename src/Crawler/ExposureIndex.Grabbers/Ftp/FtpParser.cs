namespace ExposureIndex.Grabbers.Ftp;

/// <summary>
/// The server side of our pre-login FTP exchange: the greeting (a 1yz "service ready in n minutes" may come
/// first), then FEAT (RFC 2389), then SYST (RFC 959 §4.1.3), then QUIT. Pure: fed the server's bytes, it hands out
/// the next command through <see cref="TakeOutgoing"/>.
/// </summary>
/// <remarks>
/// We never send USER or PASS, not even for anonymous FTP (which Shodan tries): the grabber sends no credentials
/// at all, so whether anonymous login works is not ours to know.
/// </remarks>
internal sealed class FtpParser : IConversationParser<FtpResult>
{
    private static readonly byte[] Feat = "FEAT\r\n"u8.ToArray();
    private static readonly byte[] Syst = "SYST\r\n"u8.ToArray();
    private static readonly byte[] Quit = "QUIT\r\n"u8.ToArray();

    private readonly NumericReplyReader _reader;
    private readonly List<byte> _banner = [];
    private Stage _stage = Stage.Greeting;
    private ReadOnlyMemory<byte> _outgoing;
    private NumericReply? _greeting;
    private bool _featSupported;
    private List<FtpFeature> _features = [];
    private int? _systCode;
    private string? _system;

    public FtpParser(int maxLineLength = 4096, int maxLinesPerReply = 512)
    {
        _reader = new NumericReplyReader(maxLineLength, maxLinesPerReply);
    }

    private enum Stage
    {
        Greeting,
        Feat,
        Syst,
        Done,
        Failed,
    }

    /// <summary>What is known so far; set once the greeting has arrived.</summary>
    public FtpResult? Result => _greeting is null ? null : new FtpResult
    {
        GreetingCode = _greeting.Code,
        Greeting = _greeting.Lines,
        FeatSupported = _featSupported,
        Features = _features,
        SystCode = _systCode,
        System = _system,
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
                    return Fail($"the connection closed inside the {(_stage == Stage.Feat ? "FEAT" : "SYST")} reply");
                }

                // The greeting arrived, then the server hung up on FEAT or SYST: what we have is the answer.
                _stage = Stage.Done;
                return ParseStatus.Complete;
        }
    }

    private void Accept(NumericReply reply)
    {
        switch (_stage)
        {
            case Stage.Greeting:
                _banner.AddRange(reply.Raw);
                if (reply.Class == 1)
                {
                    // 120 "service ready in nnn minutes": the real greeting follows (RFC 959 §5.4).
                    return;
                }

                _greeting = reply;
                if (reply.Code == 220)
                {
                    _outgoing = Feat;
                    _stage = Stage.Feat;
                }
                else
                {
                    // 421 and friends: the server will not talk to us.
                    _stage = Stage.Done;
                }

                return;
            case Stage.Feat:
                _banner.AddRange(reply.Raw);
                if (reply.Code == 211)
                {
                    _featSupported = true;
                    _features = ParseFeatures(reply.Lines);
                }

                _outgoing = Syst;
                _stage = Stage.Syst;
                return;
            case Stage.Syst:
                _banner.AddRange(reply.Raw);
                _systCode = reply.Code;
                if (reply.Code == 215)
                {
                    _system = reply.Text.Trim();
                }

                _outgoing = Quit;
                _stage = Stage.Done;
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

    private ParseStatus Fail(string error)
    {
        Error = error;
        _stage = Stage.Failed;
        return ParseStatus.Invalid;
    }
}
