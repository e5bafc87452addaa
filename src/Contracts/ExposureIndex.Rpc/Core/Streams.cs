using System.Runtime.CompilerServices;

namespace ExposureIndex.Rpc.Core;

/// <summary>A stream of received messages: call <see cref="MoveNext"/>, then read <see cref="Current"/>.</summary>
public interface IAsyncStreamReader<out T>
{
    /// <summary>The message read by the last successful <see cref="MoveNext"/>.</summary>
    T Current { get; }

    /// <summary>
    /// Reads the next message. Returns false at the end of the stream. Client-side, a non-OK call status
    /// surfaces here as <see cref="RpcException"/>, and cancelling the token cancels the call.
    /// </summary>
    Task<bool> MoveNext(CancellationToken cancellationToken = default);
}

/// <summary>A stream of messages to send.</summary>
public interface IAsyncStreamWriter<in T>
{
    /// <summary>
    /// Queues one message. Small messages are batched and sent when enough bytes accumulate or the writer
    /// goes idle; a message written is always delivered without waiting for further writes.
    /// </summary>
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}

/// <summary>The response stream of a server handler.</summary>
public interface IServerStreamWriter<in T> : IAsyncStreamWriter<T>
{
}

/// <summary>The request stream of a client call.</summary>
public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
{
    /// <summary>Half-closes the request stream (HTTP/2 END_STREAM) after sending what was written.</summary>
    Task CompleteAsync();
}

/// <summary>Helpers over <see cref="IAsyncStreamReader{T}"/>.</summary>
public static class AsyncStreamReaderExtensions
{
    /// <summary>Enumerates the remaining messages of the stream.</summary>
    public static async IAsyncEnumerable<T> ReadAllAsync<T>(this IAsyncStreamReader<T> reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        while (await reader.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return reader.Current;
        }
    }
}
