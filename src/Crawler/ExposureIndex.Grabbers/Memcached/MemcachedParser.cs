namespace ExposureIndex.Grabbers.Memcached;

/// <summary>
/// The server side of memcached's text protocol for "stats" (STAT lines up to END) and "version" ("VERSION x"),
/// then "quit". Either may be refused with ERROR / CLIENT_ERROR / SERVER_ERROR (e.g. a SASL-only server). Pure: fed
/// the server's bytes, it hands out the commands through <see cref="TakeOutgoing"/>.
/// </summary>
internal sealed class MemcachedParser : LineConversationParser<MemcachedResult>
{
    private static readonly byte[] StatsCommand = "stats\r\n"u8.ToArray();
    private static readonly byte[] VersionCommand = "version\r\n"u8.ToArray();
    private static readonly byte[] Quit = "quit\r\n"u8.ToArray();

    private readonly int _maxStats;
    private readonly List<byte> _banner = [];
    private readonly List<KeyValuePair<string, string>> _stats = [];
    private Stage _stage = Stage.Stats;
    private bool _answered;
    private string? _statsError;
    private string? _version;

    public MemcachedParser(int maxLineLength = 4096, int maxStats = 1024)
        : base(maxLineLength, "a reply line is longer than the line cap")
    {
        _maxStats = maxStats;
        Send(StatsCommand);
    }

    private enum Stage
    {
        Stats,
        Version,
    }

    /// <summary>What is known so far; set once the server answered anything that is memcached's protocol.</summary>
    public override MemcachedResult? Result => !_answered ? null : new MemcachedResult
    {
        Stats = [.. _stats],
        StatsError = _statsError,
        VersionReply = _version,
        Banner = [.. _banner],
    };

    protected override ParseStatus EndOfStream() => _stage switch
    {
        Stage.Version when Lines.Pending == 0 => Complete(),
        Stage.Stats when _answered => Fail("the connection closed inside the stats list"),
        _ => Fail("the server closed the connection without answering"),
    };

    protected override void Accept(byte[] line)
    {
        var text = LineReader.Text(line);
        var error = text == "ERROR" || text.StartsWith("CLIENT_ERROR", StringComparison.Ordinal) || text.StartsWith("SERVER_ERROR", StringComparison.Ordinal);
        if (_stage == Stage.Stats)
        {
            if (text.StartsWith("STAT ", StringComparison.Ordinal))
            {
                if (_stats.Count >= _maxStats)
                {
                    Fail($"the stats list runs past {_maxStats} lines");
                    return;
                }

                _answered = true;
                _banner.AddRange(line);
                var rest = text[5..];
                var space = rest.IndexOf(' ', StringComparison.Ordinal);
                _stats.Add(space < 0 ? new(rest, string.Empty) : new(rest[..space], rest[(space + 1)..]));
                return;
            }

            if (text == "END" || error)
            {
                _answered = true;
                _banner.AddRange(line);
                _statsError = error ? text : null;
                Send(VersionCommand);
                _stage = Stage.Version;
                return;
            }

            Fail($"not a memcached reply to stats: \"{Shorten(text)}\"");
            return;
        }

        _banner.AddRange(line);
        if (text.StartsWith("VERSION ", StringComparison.Ordinal))
        {
            _version = text[8..].Trim();
        }
        else if (!error)
        {
            Fail($"not a memcached reply to version: \"{Shorten(text)}\"");
            return;
        }

        Finish(Quit);
    }
}
