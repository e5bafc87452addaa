namespace ExposureIndex.Grabbers;

/// <summary>The bytes a parser was fed from a connection and how the parse ended.</summary>
public sealed record ParsedRead(ParseStatus Status, byte[] Bytes, bool EndOfStream);

/// <summary>Drives an <see cref="IIncrementalParser{TResult}"/> from a capped connection: the thin-I/O half of a grabber.</summary>
public static class IncrementalRead
{
    /// <summary>
    /// Reads and feeds <paramref name="parser"/> until it completes or fails, the peer closes (then
    /// <see cref="IIncrementalParser{TResult}.End"/> decides), or <paramref name="maxBytes"/> arrived (then End too).
    /// A read timeout before the parse finished throws <see cref="GrabLimitException"/> as any read does.
    /// Returns everything read, for the record's raw data.
    /// </summary>
    public static async ValueTask<ParsedRead> ReadParsedAsync<TResult>(this GrabConnection connection, IIncrementalParser<TResult> parser, int maxBytes, CancellationToken cancellationToken)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(parser);
        var received = new MemoryStream();
        var buffer = new byte[Math.Clamp(maxBytes, 1, 16 * 1024)];
        while (received.Length < maxBytes)
        {
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
