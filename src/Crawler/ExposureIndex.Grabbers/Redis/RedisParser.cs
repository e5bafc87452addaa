using System.Globalization;
using System.Text;

namespace ExposureIndex.Grabbers.Redis;

/// <summary>
/// The server side of "INFO" sent without AUTH, in RESP (the Redis serialization protocol): a bulk string
/// "$&lt;length&gt;\r\n&lt;bytes&gt;\r\n" holding the info text, or an error line "-NOAUTH ..." when the server wants a
/// password first, after which we stop. Pure: fed the server's bytes, it hands out the commands through
/// <see cref="TakeOutgoing"/>.
/// </summary>
internal sealed class RedisParser : LineConversationParser<RedisResult>
{
    // RESP arrays of bulk strings: what redis-cli sends; inline commands would work too but are a legacy path.
    private static readonly byte[] Info = "*1\r\n$4\r\nINFO\r\n"u8.ToArray();
    private static readonly byte[] Quit = "*1\r\n$4\r\nQUIT\r\n"u8.ToArray();

    private readonly int _maxBulkLength;
    private readonly List<byte> _banner = [];
    private readonly List<byte> _bulk = [];
    private Stage _stage = Stage.Header;
    private int _bulkRemaining;
    private RedisResult? _result;

    public RedisParser(int maxBulkLength = 1024 * 1024)
        : base(4096, "the reply to INFO is not RESP: its first line never ends")
    {
        _maxBulkLength = maxBulkLength;
        Send(Info);
    }

    private enum Stage
    {
        Header,
        Bulk,
    }

    public override RedisResult? Result => _result;

    protected override ParseStatus EndOfStream() => _stage == Stage.Bulk
        ? Fail($"the connection closed {_bulkRemaining} bytes before the end of the INFO reply")
        : Fail("the server closed the connection without answering INFO");

    /// <summary>After the "$length" header line, the bulk string's bytes (and their CRLF) are taken as they are.</summary>
    protected override bool ReadNext(ref ReadOnlySpan<byte> input)
    {
        if (_stage != Stage.Bulk)
        {
            return base.ReadNext(ref input);
        }

        var take = Math.Min(_bulkRemaining, input.Length);
        _bulk.AddRange(input[..take]);
        input = input[take..];
        _bulkRemaining -= take;
        if (_bulkRemaining > 0)
        {
            return false;
        }

        // The banner is the info text itself, as Shodan shows it, without the RESP framing.
        var payload = _bulk.GetRange(0, _bulk.Count - 2).ToArray();
        _result = new RedisResult { Sections = ParseInfo(Encoding.Latin1.GetString(payload)), Banner = payload };
        Finish(Quit);
        return true;
    }

    /// <summary>The first line: an error ("-NOAUTH ..."), a null bulk string, or the length of the INFO text.</summary>
    protected override void Accept(byte[] line)
    {
        _banner.AddRange(line);
        var text = LineReader.Text(line);
        if (text.StartsWith('-'))
        {
            _result = new RedisResult { Error = text[1..], Banner = [.. _banner] };
            Finish(Quit);
            return;
        }

        if (!text.StartsWith('$') || !long.TryParse(text.AsSpan(1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var length))
        {
            Fail($"not a RESP reply to INFO: \"{Shorten(text)}\"");
            return;
        }

        if (length < 0)
        {
            _result = new RedisResult { Banner = [.. _banner] };
            Finish(Quit);
            return;
        }

        if (length > _maxBulkLength)
        {
            Fail($"the INFO reply announces {length} bytes, over the {_maxBulkLength}-byte cap");
            return;
        }

        _bulkRemaining = (int)length + 2; // the data and its CRLF
        _stage = Stage.Bulk;
    }

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
}
