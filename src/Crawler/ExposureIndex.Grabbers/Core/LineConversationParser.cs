namespace ExposureIndex.Grabbers;

/// <summary>
/// The shared frame of the line-based scripted exchanges (FTP, SMTP, POP3, IMAP, memcached, Redis): the server's
/// bytes split into capped lines by a <see cref="LineReader"/>, the command the client sends next, and how the
/// exchange ended. A protocol says what each line means (<see cref="Accept"/>) and what a close means at its
/// current stage (<see cref="EndOfStream"/>); it queues commands with <see cref="Send"/> and ends the exchange with
/// <see cref="Complete"/>, <see cref="Finish"/> or <see cref="Fail"/>. Bytes fed after the end are ignored.
/// </summary>
internal abstract class LineConversationParser<TResult> : IConversationParser<TResult>
    where TResult : class
{
    private readonly string _lineTooLong;
    private ReadOnlyMemory<byte> _outgoing;
    private ParseStatus _status = ParseStatus.NeedMore;

    /// <param name="maxLineLength">Most bytes a line may have, its CRLF included.</param>
    /// <param name="lineTooLong">The error when a line grows past that cap without ending.</param>
    protected LineConversationParser(int maxLineLength, string lineTooLong)
    {
        Lines = new LineReader(maxLineLength);
        _lineTooLong = lineTooLong;
    }

    public abstract TResult? Result { get; }

    public string? Error { get; private set; }

    /// <summary>The line splitter; its <see cref="LineReader.Pending"/> says whether a line is half-read.</summary>
    protected LineReader Lines { get; }

    /// <summary>NeedMore while the exchange runs; Complete or Invalid once it ended.</summary>
    protected ParseStatus Status => _status;

    public ReadOnlyMemory<byte> TakeOutgoing()
    {
        var next = _outgoing;
        _outgoing = ReadOnlyMemory<byte>.Empty;
        return next;
    }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        while (_status == ParseStatus.NeedMore && ReadNext(ref chunk))
        {
        }

        return _status;
    }

    public ParseStatus End() => _status == ParseStatus.NeedMore ? EndOfStream() : _status;

    /// <summary>
    /// Reads the next line from <paramref name="input"/> (advancing it) and hands it to <see cref="Accept"/>; false
    /// when the input ran out in the middle of one. IMAP literals and Redis bulk strings override it to take the
    /// bytes the protocol announced before going back to lines.
    /// </summary>
    protected virtual bool ReadNext(ref ReadOnlySpan<byte> input)
    {
        switch (Lines.TryRead(ref input, out var line))
        {
            case LineStatus.NeedMore:
                return false;
            case LineStatus.TooLong:
                Fail(_lineTooLong);
                return true;
            default:
                Accept(line);
                return true;
        }
    }

    /// <summary>One whole line, exactly as received (its line end included: the banner keeps it byte for byte).</summary>
    protected abstract void Accept(byte[] line);

    /// <summary>The peer closed while the exchange was still running: complete with what is known, or fail.</summary>
    protected abstract ParseStatus EndOfStream();

    /// <summary>Queues the next command; it goes out before the next read.</summary>
    protected void Send(ReadOnlyMemory<byte> command) => _outgoing = command;

    /// <summary>The exchange is over; nothing more is sent.</summary>
    protected ParseStatus Complete()
    {
        _status = ParseStatus.Complete;
        return _status;
    }

    /// <summary>The exchange is over; <paramref name="farewell"/> (QUIT, LOGOUT) goes out without waiting for its answer.</summary>
    protected ParseStatus Finish(ReadOnlyMemory<byte> farewell)
    {
        Send(farewell);
        return Complete();
    }

    protected ParseStatus Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
        return _status;
    }

    /// <summary>A line cut to 60 characters, for error messages.</summary>
    protected static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "...";
}
