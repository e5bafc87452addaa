using System.Text;

namespace ExposureIndex.Grabbers.Tests.Support;

/// <summary>
/// Feeds fixtures to fresh parsers the ways GUIDE §3.2 asks for: whole, byte by byte, and split at random points
/// (seeded), checking every way reaches the same status and an equal result; and checks that prefixes ask for more.
/// </summary>
public static class ParserFeeding
{
    /// <param name="canonical">How to compare results when TResult lacks value equality (records holding lists do): a stable text form.</param>
    public static TResult AllWays<TResult>(Func<IIncrementalParser<TResult>> create, byte[] fixture, bool endOfStream = false, int randomSplits = 25, int seed = 1234, Func<TResult, string>? canonical = null)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(fixture);
        var (wholeStatus, whole, wholeError) = Feed(create(), [fixture], endOfStream);
        Assert.True(wholeStatus == ParseStatus.Complete, $"whole fixture did not parse: {wholeStatus} {wholeError}");

        void Same(TResult? expected, TResult? actual)
        {
            if (canonical is null)
            {
                Assert.Equal(expected, actual);
            }
            else
            {
                Assert.Equal(canonical(expected!), canonical(actual!));
            }
        }

        var (status, result, error) = Feed(create(), Bytewise(fixture), endOfStream);
        Assert.True(status == ParseStatus.Complete, $"byte-by-byte feed ended {status}: {error}");
        Same(whole, result);

        var random = new Random(seed);
        for (var round = 0; round < randomSplits; round++)
        {
            var chunks = new List<byte[]>();
            var offset = 0;
            while (offset < fixture.Length)
            {
                var size = Math.Min(fixture.Length - offset, 1 + random.Next(Math.Max(1, fixture.Length / 3)));
                chunks.Add(fixture.AsSpan(offset, size).ToArray());
                offset += size;
            }

            (status, result, error) = Feed(create(), chunks, endOfStream);
            Assert.True(status == ParseStatus.Complete, $"random split {round} ended {status}: {error}");
            Same(whole, result);
        }

        return whole!;
    }

    /// <summary>
    /// Feeds <paramref name="first"/>, then <paramref name="line"/> over and over (10 MB at most) while the parser asks
    /// for more: an endless reply from a hostile server. Returns the last status.
    /// </summary>
    public static ParseStatus FeedEndlessly<TResult>(IIncrementalParser<TResult> parser, ReadOnlySpan<byte> first, byte[] line)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentNullException.ThrowIfNull(line);
        var status = parser.Feed(first);
        for (var sent = 0L; sent < 10L * 1024 * 1024 && status == ParseStatus.NeedMore; sent += line.Length)
        {
            status = parser.Feed(line);
        }

        return status;
    }

    /// <summary>Checks every proper prefix of a fixture asks for more bytes (or is Invalid for junk), never completes early or throws.</summary>
    public static void PrefixesNeedMore<TResult>(Func<IIncrementalParser<TResult>> create, byte[] fixture)
        where TResult : class
    {
        for (var length = 0; length < fixture.Length; length++)
        {
            var parser = create();
            var status = parser.Feed(fixture.AsSpan(0, length));
            Assert.True(status == ParseStatus.NeedMore, $"prefix of {length}/{fixture.Length} bytes gave {status} ({parser.Error})");
        }
    }

    /// <summary>
    /// Checks every prefix of <paramref name="transcript"/> shorter than what completes a fresh parser asks for more
    /// bytes (the transcript may go on, e.g. with a QUIT reply); returns that completing length.
    /// </summary>
    public static int PrefixesBeforeCompletionNeedMore<TResult>(Func<IIncrementalParser<TResult>> create, byte[] transcript)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(transcript);
        var complete = CompletionLength(create, transcript);
        PrefixesNeedMore(create, transcript[..complete]);
        return complete;
    }

    /// <summary>How many bytes of <paramref name="transcript"/> a fresh parser needs before it completes.</summary>
    public static int CompletionLength<TResult>(Func<IIncrementalParser<TResult>> create, byte[] transcript)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(transcript);
        var parser = create();
        for (var i = 0; i < transcript.Length; i++)
        {
            if (parser.Feed(transcript.AsSpan(i, 1)) == ParseStatus.Complete)
            {
                return i + 1;
            }
        }

        throw new InvalidOperationException($"the parser never completed on {transcript.Length} bytes: {parser.Error}");
    }

    /// <summary>Feeds a malformed fixture whole and byte by byte; each way must end Invalid with an error containing <paramref name="reason"/>. Returns the parsers.</summary>
    public static IReadOnlyList<IIncrementalParser<TResult>> InvalidWholeAndByteByByte<TResult>(Func<IIncrementalParser<TResult>> create, byte[] fixture, string reason)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(fixture);
        var parsers = new List<IIncrementalParser<TResult>>();
        foreach (var chunks in new[] { [fixture], Bytewise(fixture) })
        {
            var parser = create();
            var (status, _, error) = Feed(parser, chunks, endOfStream: false);
            Assert.Equal(ParseStatus.Invalid, status);
            Assert.Contains(reason, error, StringComparison.Ordinal);
            parsers.Add(parser);
        }

        return parsers;
    }

    /// <summary>Feeds a transcript byte by byte and returns the commands the parser handed out, in order.</summary>
    public static IReadOnlyList<string> Commands<TResult>(IConversationParser<TResult> parser, byte[] transcript)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentNullException.ThrowIfNull(transcript);
        var sent = new List<string>();
        void Take()
        {
            var bytes = parser.TakeOutgoing();
            if (!bytes.IsEmpty)
            {
                sent.Add(Encoding.Latin1.GetString(bytes.Span));
            }
        }

        Take();
        foreach (var b in transcript)
        {
            if (parser.Feed([b]) != ParseStatus.NeedMore)
            {
                break;
            }

            Take();
        }

        Take();
        return sent;
    }

    private static byte[][] Bytewise(byte[] fixture) => Enumerable.Range(0, fixture.Length).Select(i => fixture.AsSpan(i, 1).ToArray()).ToArray();

    private static (ParseStatus Status, TResult? Result, string? Error) Feed<TResult>(IIncrementalParser<TResult> parser, IEnumerable<byte[]> chunks, bool endOfStream)
        where TResult : class
    {
        var status = ParseStatus.NeedMore;
        foreach (var chunk in chunks)
        {
            status = parser.Feed(chunk);
            if (status != ParseStatus.NeedMore)
            {
                break;
            }
        }

        if (status == ParseStatus.NeedMore && endOfStream)
        {
            status = parser.End();
        }

        return (status, parser.Result, parser.Error);
    }
}
