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

/// <summary>How a conversation ended: the parser's status, the grab outcome it maps to, and why.</summary>
public readonly record struct ConversationEnd(ParseStatus Status, GrabOutcome Outcome, string? Error)
{
    public bool Succeeded => Status == ParseStatus.Complete;

    /// <summary>The grab's result: success with <paramref name="record"/>, or the failure keeping it as partial data.</summary>
    public GrabResult ToGrabResult(ServiceRecord record)
        => Succeeded ? GrabResult.Success(record) : GrabResult.Failed(Outcome, Error ?? "the exchange did not complete", record);
}

/// <summary>
/// Runs an <see cref="IConversationParser{TResult}"/> against a target: connects (TLS first when the context says
/// so), sends what the parser asks for, feeds it what arrives, all under the grab's caps and total deadline. Never
/// throws for network or protocol trouble; only the caller's cancellation propagates.
/// </summary>
public static class Conversation
{
    private const int ChunkSize = 4096;

    /// <summary>Connects and runs the conversation to its end.</summary>
    public static async ValueTask<ConversationEnd> RunAsync<TResult>(GrabContext context, IConversationParser<TResult> parser, CancellationToken cancellationToken)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(parser);
        using var deadline = new GrabDeadline(context, cancellationToken);
        var (connection, failure) = await TryConnectAsync(context, deadline, cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            return failure;
        }

        await using (connection.ConfigureAwait(false))
        {
            return await RunAsync(connection, parser, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Opens a connection under <paramref name="deadline"/>; a failure comes back as the conversation's end.</summary>
    public static async ValueTask<(GrabConnection? Connection, ConversationEnd Failure)> TryConnectAsync(GrabContext context, GrabDeadline deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(deadline);
        try
        {
            return (await context.ConnectAsync(deadline.Token).ConfigureAwait(false), default);
        }
        catch (GrabLimitException e)
        {
            return (null, new ConversationEnd(ParseStatus.NeedMore, e.Outcome, e.Message));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, new ConversationEnd(ParseStatus.NeedMore, GrabOutcome.ConnectTimeout, $"the grab's total deadline of {context.Limits.TotalDeadline.TotalMilliseconds:F0} ms passed while connecting"));
        }
    }

    /// <summary>
    /// Runs the conversation on an open connection (its caps and deadline apply). When <paramref name="pauseWhen"/>
    /// turns true after a chunk, it returns early with status NeedMore and outcome Success: the parser wants the
    /// rest of the exchange on a new connection (PostgreSQL after an 'S' to SSLRequest).
    /// </summary>
    public static async ValueTask<ConversationEnd> RunAsync<TResult>(GrabConnection connection, IConversationParser<TResult> parser, CancellationToken cancellationToken, Func<bool>? pauseWhen = null)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(parser);
        var buffer = new byte[ChunkSize];
        try
        {
            while (true)
            {
                var outgoing = parser.TakeOutgoing();
                if (!outgoing.IsEmpty)
                {
                    await connection.WriteAsync(outgoing, cancellationToken).ConfigureAwait(false);
                }

                var n = await connection.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    var status = parser.End();
                    if (status == ParseStatus.Complete)
                    {
                        return new ConversationEnd(status, GrabOutcome.Success, null);
                    }

                    if (connection.Truncated)
                    {
                        return new ConversationEnd(status, GrabOutcome.ProtocolError, $"stopped at the byte cap ({connection.BytesRead} bytes) before the exchange ended" + (parser.Error is { } why ? ": " + why : string.Empty));
                    }

                    return status == ParseStatus.Invalid
                        ? new ConversationEnd(status, GrabOutcome.ProtocolError, parser.Error)
                        : new ConversationEnd(status, GrabOutcome.Closed, "the server closed the connection before the exchange ended" + (parser.Error is { } reason ? ": " + reason : string.Empty));
                }

                var fed = parser.Feed(buffer.AsSpan(0, n));
                if (fed == ParseStatus.Complete)
                {
                    await SayGoodbyeAsync(connection, parser, cancellationToken).ConfigureAwait(false);
                    return new ConversationEnd(fed, GrabOutcome.Success, null);
                }

                if (fed == ParseStatus.Invalid)
                {
                    return new ConversationEnd(fed, GrabOutcome.ProtocolError, parser.Error);
                }

                if (pauseWhen?.Invoke() == true)
                {
                    return new ConversationEnd(ParseStatus.NeedMore, GrabOutcome.Success, null);
                }
            }
        }
        catch (GrabLimitException e)
        {
            return new ConversationEnd(ParseStatus.NeedMore, e.Outcome, e.Message);
        }
        catch (IOException e)
        {
            return new ConversationEnd(ParseStatus.NeedMore, GrabOutcome.Closed, "the connection broke: " + (e.InnerException?.Message ?? e.Message));
        }
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

/// <summary>
/// The grab's total deadline (on the context's clock) joined with the caller's cancellation. Give
/// <see cref="Token"/> to connects, so the connection's reads stop at the deadline; give the caller's own token to
/// reads, so the deadline surfaces as an I/O timeout rather than as cancellation.
/// </summary>
public sealed class GrabDeadline : IDisposable
{
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource _linked;

    public GrabDeadline(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _timer = new CancellationTokenSource(context.Limits.TotalDeadline, context.Time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(_timer.Token, cancellationToken);
    }

    public CancellationToken Token => _linked.Token;

    public void Dispose()
    {
        _linked.Dispose();
        _timer.Dispose();
    }
}
