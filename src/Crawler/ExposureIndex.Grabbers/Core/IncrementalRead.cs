using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers;

/// <summary>The bytes a parser was fed from a connection and how the parse ended.</summary>
public sealed record ParsedRead(ParseStatus Status, byte[] Bytes, bool EndOfStream)
{
    /// <summary>
    /// The failed grab for a read that did not complete: closed when the peer hung up without a byte, else a
    /// protocol error; the bytes that did arrive (the first <paramref name="maxData"/>) become the record's data.
    /// </summary>
    public GrabResult ToFailure(ServiceRecord record, string error, int maxData = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(record);
        record.Data = ByteString.CopyFrom(Bytes.AsSpan(0, Math.Min(Bytes.Length, maxData)));
        return GrabResult.Failed(EndOfStream && Bytes.Length == 0 ? GrabOutcome.Closed : GrabOutcome.ProtocolError, error, record);
    }
}

/// <summary>
/// The one loop that drives an <see cref="IIncrementalParser{TResult}"/> from a capped connection: the thin-I/O half
/// of a grabber. Conversations (<see cref="Conversation"/>), single replies and the HTTP, SSH, TLS and VNC
/// exchanges all read through it.
/// </summary>
public static class IncrementalRead
{
    /// <summary>
    /// Reads and feeds <paramref name="parser"/> until it completes or fails, the peer closes (then
    /// <see cref="IIncrementalParser{TResult}.End"/> decides), or <paramref name="maxBytes"/> arrived (then End too).
    /// Before each read, <paramref name="beforeRead"/> may send what the exchange needs next (a command, an answer);
    /// when it returns false the loop stops there with status NeedMore, the parser left as it is.
    /// A read timeout before the parse finished throws <see cref="GrabLimitException"/> as any read does.
    /// Returns everything read, for the record's raw data.
    /// </summary>
    public static async ValueTask<ParsedRead> ReadParsedAsync<TResult>(this GrabConnection connection, IIncrementalParser<TResult> parser, int maxBytes, CancellationToken cancellationToken, Func<ValueTask<bool>>? beforeRead = null)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(parser);
        var received = new MemoryStream();
        var buffer = new byte[Math.Clamp(maxBytes, 1, 16 * 1024)];
        while (received.Length < maxBytes)
        {
            if (beforeRead is not null && !await beforeRead().ConfigureAwait(false))
            {
                return new ParsedRead(ParseStatus.NeedMore, received.ToArray(), EndOfStream: false);
            }

            var n = await connection.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, maxBytes - received.Length)), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return new ParsedRead(parser.End(), received.ToArray(), EndOfStream: true);
            }

            received.Write(buffer, 0, n);
            var status = parser.Feed(buffer.AsSpan(0, n));
            if (status != ParseStatus.NeedMore)
            {
                return new ParsedRead(status, received.ToArray(), EndOfStream: false);
            }
        }

        return new ParsedRead(parser.End(), received.ToArray(), EndOfStream: false);
    }
}
