namespace ExposureIndex.Grabbers.Tests.Support;

/// <summary>
/// Feeds one fixture to a fresh parser three ways - whole, byte by byte, and split at random points (seeded) -
/// and checks every way reaches the same status and an equal result (GUIDE §3.2).
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

        var bytewise = Enumerable.Range(0, fixture.Length).Select(i => fixture.AsSpan(i, 1).ToArray()).ToList();
        var (status, result, error) = Feed(create(), bytewise, endOfStream);
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
