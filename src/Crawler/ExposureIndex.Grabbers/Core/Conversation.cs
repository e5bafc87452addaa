using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Grabbers;

/// <summary>
/// A pure parser for a scripted exchange (greeting, a few commands, their replies): it is fed the server's bytes,
/// and says which bytes the client sends next. The protocol stays a state machine with no sockets and no clock
/// (a "sans-I/O" parser); <see cref="Conversation"/> does the I/O. A test can feed a whole captured transcript at
/// once: the parser queues each command as soon as the reply it waits for is complete.
/// </summary>
public interface IConversationParser<out TResult> : IIncrementalParser<TResult>
    where TResult : class
{
    /// <summary>
    /// The command the client should send now, or empty when none is due. Each command is handed out once. After
    /// Complete it may hold a farewell (QUIT, LOGOUT), which is sent without waiting for the answer.
    /// </summary>
    ReadOnlyMemory<byte> TakeOutgoing();
}

/// <summary>How a conversation on one connection ended: the parser's status, the grab outcome it maps to, and why.</summary>
public readonly record struct ConversationEnd(ParseStatus Status, GrabOutcome Outcome, string? Error)
{
    public bool Succeeded => Status == ParseStatus.Complete;

    /// <summary>True when the conversation stopped early because the rest of it belongs on a new connection.</summary>
    public bool Paused => Status == ParseStatus.NeedMore && Outcome == GrabOutcome.Success;

    /// <summary>The grab's result: success with <paramref name="record"/>, or the failure keeping it as partial data.</summary>
    public GrabResult ToGrabResult(ServiceRecord record)
        => Succeeded ? GrabResult.Success(record) : GrabResult.Failed(Outcome, Error ?? "the exchange did not complete", record);
}

/// <summary>
/// Runs an <see cref="IConversationParser{TResult}"/> against a target: connects (TLS first when the context says
/// so), sends what the parser asks for and feeds it what arrives, under the grab's caps and <see cref="GrabGuard"/>.
/// Never throws for network or protocol trouble; only the caller's cancellation propagates.
/// </summary>
public static class Conversation
{
    /// <summary>
    /// The whole grab of a conversation protocol: a record for <paramref name="module"/>, filled by
    /// <paramref name="describe"/> from whatever the parser learned, also when the exchange broke off.
    /// <paramref name="exchange"/> replaces the default single connection (see <see cref="RunAsync{TResult}(GrabContext, IConversationParser{TResult}, CancellationToken, CancellationToken, Func{bool}?)"/>);
    /// it is given the grab's deadline token.
    /// </summary>
    public static ValueTask<GrabResult> GrabAsync<TResult>(
        GrabContext context,
        string module,
        IConversationParser<TResult> parser,
        Action<ServiceRecord, TResult> describe,
        CancellationToken cancellationToken,
        Func<CancellationToken, ValueTask<ConversationEnd>>? exchange = null)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentNullException.ThrowIfNull(describe);
        var record = new ServiceRecord { Module = module };
        exchange ??= deadline => RunAsync(context, parser, deadline, cancellationToken);
        return GrabGuard.RunAsync(context, $"the {module} grab", record, async deadline =>
        {
            ConversationEnd end;
            try
            {
                end = await exchange(deadline).ConfigureAwait(false);
            }
            finally
            {
                // Whatever ended the exchange, the record keeps what the server said so far.
                if (parser.Result is { } result)
                {
                    describe(record, result);
                }
            }

            return end.ToGrabResult(record);
        }, cancellationToken);
    }

    /// <summary>
    /// Opens a connection with the grab's <paramref name="deadline"/> and runs the conversation on it (see
    /// <see cref="RunAsync{TResult}(GrabConnection, IConversationParser{TResult}, CancellationToken, Func{bool}?)"/>).
    /// A failed connect throws <see cref="GrabLimitException"/>, for <see cref="GrabGuard"/> to map.
    /// </summary>
    public static async ValueTask<ConversationEnd> RunAsync<TResult>(GrabContext context, IConversationParser<TResult> parser, CancellationToken deadline, CancellationToken cancellationToken, Func<bool>? pauseWhen = null)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(context);
        var connection = await context.ConnectAsync(deadline).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await RunAsync(connection, parser, cancellationToken, pauseWhen).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs the conversation on an open connection (its caps and deadline apply): each command the parser hands out
    /// is sent before the next read. When <paramref name="pauseWhen"/> turns true after a chunk, it returns early
    /// (<see cref="ConversationEnd.Paused"/>): the parser wants the rest of the exchange on a new connection
    /// (PostgreSQL after an 'S' to SSLRequest). Read timeouts and broken connections throw, for
    /// <see cref="GrabGuard"/> to map.
    /// </summary>
    public static async ValueTask<ConversationEnd> RunAsync<TResult>(GrabConnection connection, IConversationParser<TResult> parser, CancellationToken cancellationToken, Func<bool>? pauseWhen = null)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(parser);
        var read = await connection.ReadParsedAsync(parser, int.MaxValue, cancellationToken, async () =>
        {
            if (pauseWhen?.Invoke() == true)
            {
                return false;
            }

            var outgoing = parser.TakeOutgoing();
            if (!outgoing.IsEmpty)
            {
                await connection.WriteAsync(outgoing, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }).ConfigureAwait(false);

        if (!read.EndOfStream)
        {
            switch (read.Status)
            {
                case ParseStatus.Complete:
                    await SayGoodbyeAsync(connection, parser, cancellationToken).ConfigureAwait(false);
                    return new ConversationEnd(read.Status, GrabOutcome.Success, null);
                case ParseStatus.Invalid:
                    return new ConversationEnd(read.Status, GrabOutcome.ProtocolError, parser.Error);
                default:
                    return new ConversationEnd(ParseStatus.NeedMore, GrabOutcome.Success, null);
            }
        }

        // The peer closed, or the byte cap ended reading: End() decided.
        var reason = parser.Error is { } why ? ": " + why : string.Empty;
        if (read.Status == ParseStatus.Complete)
        {
            return new ConversationEnd(read.Status, GrabOutcome.Success, null);
        }

        if (connection.Truncated)
        {
            return new ConversationEnd(read.Status, GrabOutcome.ProtocolError, $"stopped at the byte cap ({connection.BytesRead} bytes) before the exchange ended{reason}");
        }

        return read.Status == ParseStatus.Invalid
            ? new ConversationEnd(read.Status, GrabOutcome.ProtocolError, parser.Error)
            : new ConversationEnd(read.Status, GrabOutcome.Closed, $"the server closed the connection before the exchange ended{reason}");
    }

    // Best effort: the answer is not needed and a server that already left is no error.
    private static async ValueTask SayGoodbyeAsync<TResult>(GrabConnection connection, IConversationParser<TResult> parser, CancellationToken cancellationToken)
        where TResult : class
    {
        var farewell = parser.TakeOutgoing();
        if (farewell.IsEmpty)
        {
            return;
        }

        try
        {
            await connection.WriteAsync(farewell, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is GrabLimitException or IOException)
        {
        }
    }
}
