namespace ExposureIndex.Grabbers;

/// <summary>Where an incremental parse stands after a chunk.</summary>
public enum ParseStatus
{
    /// <summary>The message is incomplete; feed more bytes.</summary>
    NeedMore = 0,

    /// <summary>A whole message was parsed; <see cref="IIncrementalParser{TResult}.Result"/> holds it.</summary>
    Complete = 1,

    /// <summary>The bytes cannot be this protocol; <see cref="IIncrementalParser{TResult}.Error"/> says why.</summary>
    Invalid = 2,
}

/// <summary>
/// A pure, incremental protocol parser (masscan's style): no sockets, no clock. Bytes arrive in chunks of any
/// size, so parsing a message whole, byte by byte, or split at random points gives the same result (the
/// Grabbers tests check exactly this for every fixture). Bytes fed after Complete are ignored.
/// </summary>
public interface IIncrementalParser<out TResult>
    where TResult : class
{
    ParseStatus Feed(ReadOnlySpan<byte> chunk);

    /// <summary>Tells the parser the peer closed; a parser that can finish on EOF (a banner line) does so here.</summary>
    ParseStatus End();

    TResult? Result { get; }

    string? Error { get; }
}
