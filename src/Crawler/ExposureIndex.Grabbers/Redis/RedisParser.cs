using System.Globalization;
using System.Text;

namespace ExposureIndex.Grabbers.Redis;

/// <summary>
/// The server side of "INFO" sent without AUTH, in RESP (the Redis serialization protocol): a bulk string
/// "$&lt;length&gt;\r\n&lt;bytes&gt;\r\n" holding the info text, or an error line "-NOAUTH ..." when the server wants a
/// password first, after which we stop. Pure: fed the server's bytes, it hands out the commands through
/// <see cref="TakeOutgoing"/>.
/// </summary>
internal sealed class RedisParser : IConversationParser<RedisResult>
{
    // RESP arrays of bulk strings: what redis-cli sends; inline commands would work too but are a legacy path.
    private static readonly byte[] Info = "*1\r\n$4\r\nINFO\r\n"u8.ToArray();
    private static readonly byte[] Quit = "*1\r\n$4\r\nQUIT\r\n"u8.ToArray();

    private readonly LineReader _header;
    private readonly int _maxBulkLength;
    private readonly List<byte> _banner = [];
    private readonly List<byte> _bulk = [];
    private ReadOnlyMemory<byte> _outgoing = Info;
    private Stage _stage = Stage.Header;
    private int _bulkRemaining;
    private RedisResult? _result;

    public RedisParser(int maxBulkLength = 1024 * 1024)
    {
        _header = new LineReader(4096);
        _maxBulkLength = maxBulkLength;
    }

    private enum Stage
    {
        Header,
        Bulk,
        Done,
        Failed,
    }

    public RedisResult? Result => _result;

    public string? Error { get; private set; }

    public ReadOnlyMemory<byte> TakeOutgoing()
    {
        var next = _outgoing;
        _outgoing = ReadOnlyMemory<byte>.Empty;
        return next;
    }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        if (_stage == Stage.Header)
        {
            var status = _header.TryRead(ref chunk, out var raw);
            if (status == LineStatus.NeedMore)
            {
                return ParseStatus.NeedMore;
            }

            if (status == LineStatus.TooLong)
            {
                return Fail("the reply to INFO is not RESP: its first line never ends");
            }

            _banner.AddRange(raw);
            var line = LineReader.Text(raw);
            if (line.StartsWith('-'))
            {
                _result = new RedisResult { Error = line[1..], Banner = [.. _banner] };
                return Finish();
            }

            if (line.StartsWith('$') && long.TryParse(line.AsSpan(1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var length))
            {
                if (length < 0)
                {
                    _result = new RedisResult { Banner = [.. _banner] };
                    return Finish();
                }

                if (length > _maxBulkLength)
                {
                    return Fail($"the INFO reply announces {length} bytes, over the {_maxBulkLength}-byte cap");
                }

                _bulkRemaining = (int)length + 2; // the data and its CRLF
                _stage = Stage.Bulk;
            }
            else
            {
                return Fail($"not a RESP reply to INFO: \"{(line.Length <= 60 ? line : line[..60] + "...")}\"");
            }
        }

        if (_stage == Stage.Bulk)
        {
            var take = Math.Min(_bulkRemaining, chunk.Length);
            _bulk.AddRange(chunk[..take]);
            _bulkRemaining -= take;
            if (_bulkRemaining > 0)
            {
                return ParseStatus.NeedMore;
            }

            // The banner is the info text itself, as Shodan shows it, without the RESP framing.
            var payload = _bulk.GetRange(0, _bulk.Count - 2).ToArray();
            _result = new RedisResult { Sections = ParseInfo(Encoding.Latin1.GetString(payload)), Banner = payload };
            return Finish();
        }

        return _stage == Stage.Done ? ParseStatus.Complete : ParseStatus.Invalid;
    }

    public ParseStatus End() => _stage switch
    {
        Stage.Done => ParseStatus.Complete,
        Stage.Failed => ParseStatus.Invalid,
        Stage.Bulk => Fail($"the connection closed {_bulkRemaining} bytes before the end of the INFO reply"),
        _ => Fail("the server closed the connection without answering INFO"),
    };

    /// <summary>INFO's text: "# Section" lines start a block, "key:value" lines fill it, blank lines separate.</summary>
    internal static IReadOnlyList<RedisInfoSection> ParseInfo(string text)
    {
        var sections = new List<RedisInfoSection>();
        var name = string.Empty;
        var fields = new List<KeyValuePair<string, string>>();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.StartsWith('#'))
            {
                if (name.Length > 0 || fields.Count > 0)
                {
                    sections.Add(new RedisInfoSection(name, fields));
                }

                name = line[1..].Trim().ToLowerInvariant();
                fields = [];
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                fields.Add(new KeyValuePair<string, string>(line[..colon], line[(colon + 1)..]));
            }
        }

        if (name.Length > 0 || fields.Count > 0)
        {
            sections.Add(new RedisInfoSection(name, fields));
        }

        return sections;
    }

    private ParseStatus Finish()
    {
        _outgoing = Quit;
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
