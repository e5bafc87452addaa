using System.Text;

namespace ExposureIndex.Grabbers;

/// <summary>What <see cref="LineReader.TryRead"/> found.</summary>
public enum LineStatus
{
    /// <summary>The input ran out inside a line; feed more.</summary>
    NeedMore = 0,

    /// <summary>A whole line was read.</summary>
    Line = 1,

    /// <summary>The line grew past the cap without ending: a hostile or non-line protocol.</summary>
    TooLong = 2,
}

/// <summary>
/// Splits a byte stream arriving in chunks of any size into lines ending in LF (a CR before it is allowed, as the
/// text protocols send CRLF but some servers send bare LF). Memory stays bounded: a line that grows past the cap
/// without ending is reported as <see cref="LineStatus.TooLong"/> instead of being buffered. Pure; no I/O.
/// </summary>
public sealed class LineReader
{
    private readonly int _maxLineLength;
    private byte[] _partial = new byte[128];
    private int _length;

    /// <param name="maxLineLength">Most bytes a line may have, its CRLF included.</param>
    public LineReader(int maxLineLength = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 2);
        _maxLineLength = maxLineLength;
    }

    /// <summary>Bytes of an unfinished line held back so far.</summary>
    public int Pending => _length;

    /// <summary>
    /// Reads one line from <paramref name="input"/> (advancing it past what was consumed). <paramref name="raw"/> is the
    /// line exactly as received, its line end included, so callers can keep the banner byte for byte.
    /// </summary>
    public LineStatus TryRead(ref ReadOnlySpan<byte> input, out byte[] raw)
    {
        raw = [];
        var newline = input.IndexOf((byte)'\n');
        var take = newline >= 0 ? newline + 1 : input.Length;
        if (_length + take > _maxLineLength)
        {
            // Nothing more is buffered: the caller gives up on a stream whose lines do not end.
            return LineStatus.TooLong;
        }

        Append(input[..take]);
        input = input[take..];
        if (newline < 0)
        {
            return LineStatus.NeedMore;
        }

        raw = _partial.AsSpan(0, _length).ToArray();
        _length = 0;
        return LineStatus.Line;
    }

    /// <summary>The bytes of a line the peer never ended (for End()), emptying the reader.</summary>
    public byte[] TakeRemainder()
    {
        var rest = _partial.AsSpan(0, _length).ToArray();
        _length = 0;
        return rest;
    }

    /// <summary>The line's text without its CR/LF, each byte mapped to one char (Latin-1: nothing is lost).</summary>
    public static string Text(ReadOnlySpan<byte> raw)
    {
        var end = raw.Length;
        while (end > 0 && raw[end - 1] is (byte)'\n' or (byte)'\r')
        {
            end--;
        }

        return Encoding.Latin1.GetString(raw[..end]);
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_length + bytes.Length > _partial.Length)
        {
            Array.Resize(ref _partial, Math.Max(_partial.Length * 2, _length + bytes.Length));
        }

        bytes.CopyTo(_partial.AsSpan(_length));
        _length += bytes.Length;
    }
}
