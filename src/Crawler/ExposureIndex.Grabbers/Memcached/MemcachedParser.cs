namespace ExposureIndex.Grabbers.Memcached;

/// <summary>
/// The server side of memcached's text protocol for "stats" (STAT lines up to END) and "version" ("VERSION x"),
/// then "quit". Either may be refused with ERROR / CLIENT_ERROR / SERVER_ERROR (e.g. a SASL-only server). Pure: fed
/// the server's bytes, it hands out the commands through <see cref="TakeOutgoing"/>.
/// </summary>
internal sealed class MemcachedParser : IConversationParser<MemcachedResult>
{
    private static readonly byte[] StatsCommand = "stats\r\n"u8.ToArray();
    private static readonly byte[] VersionCommand = "version\r\n"u8.ToArray();
    private static readonly byte[] Quit = "quit\r\n"u8.ToArray();

    private readonly LineReader _lines;
    private readonly int _maxStats;
    private readonly List<byte> _banner = [];
    private readonly List<KeyValuePair<string, string>> _stats = [];
    private ReadOnlyMemory<byte> _outgoing = StatsCommand;
    private Stage _stage = Stage.Stats;
    private bool _answered;
    private string? _statsError;
    private string? _version;

    public MemcachedParser(int maxLineLength = 4096, int maxStats = 1024)
    {
        _lines = new LineReader(maxLineLength);
        _maxStats = maxStats;
    }

    private enum Stage
    {
        Stats,
        Version,
        Done,
        Failed,
    }

    /// <summary>What is known so far; set once the server answered anything that is memcached's protocol.</summary>
    public MemcachedResult? Result => !_answered ? null : new MemcachedResult
    {
        Stats = [.. _stats],
        StatsError = _statsError,
        VersionReply = _version,
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
        while (_stage is Stage.Stats or Stage.Version)
        {
            var status = _lines.TryRead(ref chunk, out var raw);
            if (status == LineStatus.NeedMore)
            {
                return ParseStatus.NeedMore;
            }

            if (status == LineStatus.TooLong)
            {
                return Fail("a reply line is longer than the line cap");
            }

            Accept(raw);
        }

        return _stage == Stage.Done ? ParseStatus.Complete : ParseStatus.Invalid;
    }

    public ParseStatus End() => _stage switch
    {
        Stage.Done => ParseStatus.Complete,
        Stage.Failed => ParseStatus.Invalid,
        Stage.Version when _lines.Pending == 0 => Complete(),
        Stage.Stats when _answered => Fail("the connection closed inside the stats list"),
        _ => Fail("the server closed the connection without answering"),
    };

    private void Accept(byte[] raw)
    {
        var line = LineReader.Text(raw);
        var error = line == "ERROR" || line.StartsWith("CLIENT_ERROR", StringComparison.Ordinal) || line.StartsWith("SERVER_ERROR", StringComparison.Ordinal);
        if (_stage == Stage.Stats)
        {
            if (line.StartsWith("STAT ", StringComparison.Ordinal))
            {
                if (_stats.Count >= _maxStats)
                {
                    Fail($"the stats list runs past {_maxStats} lines");
                    return;
                }

                _answered = true;
                _banner.AddRange(raw);
                var rest = line[5..];
                var space = rest.IndexOf(' ', StringComparison.Ordinal);
                _stats.Add(space < 0 ? new(rest, string.Empty) : new(rest[..space], rest[(space + 1)..]));
                return;
            }

            if (line == "END" || error)
            {
                _answered = true;
                _banner.AddRange(raw);
                _statsError = error ? line : null;
                _outgoing = VersionCommand;
                _stage = Stage.Version;
                return;
            }

            Fail($"not a memcached reply to stats: \"{(line.Length <= 60 ? line : line[..60] + "...")}\"");
            return;
        }

        _banner.AddRange(raw);
        if (line.StartsWith("VERSION ", StringComparison.Ordinal))
        {
            _version = line[8..].Trim();
        }
        else if (!error)
        {
            Fail($"not a memcached reply to version: \"{(line.Length <= 60 ? line : line[..60] + "...")}\"");
            return;
        }

        _outgoing = Quit;
        _stage = Stage.Done;
    }

    private ParseStatus Complete()
    {
        _stage = Stage.Done;
        return ParseStatus.Complete;
    }

    private ParseStatus Fail(string error)
    {
        Error = error;
        _stage = Stage.Failed;
        return ParseStatus.Invalid;
    }
}
