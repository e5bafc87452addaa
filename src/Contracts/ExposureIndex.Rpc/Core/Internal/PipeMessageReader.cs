using System.Buffers;
using System.IO.Pipelines;

namespace ExposureIndex.Rpc.Core.Internal;

/// <summary>
/// Reads Length-Prefixed-Messages from a <see cref="PipeReader"/> (Kestrel's request body, or the
/// client's response stream). Bytes may arrive in any chunking; whole messages already buffered are
/// returned without awaiting. The payload is deserialized straight from the pipe's buffers.
/// </summary>
internal sealed class PipeMessageReader<T>
{
    private static readonly Task<bool> TrueTask = Task.FromResult(true);
    private static readonly Task<bool> FalseTask = Task.FromResult(false);

    private readonly PipeReader _reader;
    private readonly int _maxMessageSize;
    private readonly Func<DeserializationContext, T> _deserializer;
    private readonly PayloadContext _context = new();
    private bool _ended;

    public PipeMessageReader(PipeReader reader, int maxMessageSize, Func<DeserializationContext, T> deserializer)
    {
        _reader = reader;
        _maxMessageSize = maxMessageSize;
        _deserializer = deserializer;
    }

    public T Current { get; private set; } = default!;

    /// <summary>True once the end of the stream was reached at a message boundary.</summary>
    public bool IsEnded => _ended;

    /// <summary>Reads the next message; false at a clean end of stream.</summary>
    public ValueTask<bool> ReadNextAsync(CancellationToken cancellationToken)
    {
        if (_ended)
        {
            return new ValueTask<bool>(false);
        }

        if (_reader.TryRead(out var result))
        {
            var outcome = Consume(result);
            if (outcome != Outcome.NeedMore)
            {
                return new ValueTask<bool>(outcome == Outcome.Message);
            }
        }

        return ReadNextSlowAsync(cancellationToken);
    }

    /// <summary>The same as <see cref="ReadNextAsync"/>, as a Task (cached for synchronous results).</summary>
    public Task<bool> ReadNextAsTask(CancellationToken cancellationToken)
    {
        var pending = ReadNextAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            return pending.Result ? TrueTask : FalseTask;
        }

        return pending.AsTask();
    }

    private async ValueTask<bool> ReadNextSlowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var outcome = Consume(result);
            if (outcome != Outcome.NeedMore)
            {
                return outcome == Outcome.Message;
            }
        }
    }

    private Outcome Consume(ReadResult result)
    {
        var buffer = result.Buffer;
        var consumed = buffer.Start;
        var examined = buffer.End;
        try
        {
            if (result.IsCanceled)
            {
                throw new OperationCanceledException("The read was cancelled.");
            }

            if (MessageFraming.TryReadMessage(ref buffer, _maxMessageSize, out var payload))
            {
                _context.Payload = payload;
                try
                {
                    Current = _deserializer(_context);
                }
                catch (Exception ex) when (ex is not RpcException and not OperationCanceledException)
                {
                    throw new RpcException(new Status(StatusCode.Internal, $"Failed to deserialize a {typeof(T).Name} message of {payload.Length} bytes: {ex.Message}"), ex);
                }
                finally
                {
                    _context.Payload = default;
                }

                consumed = buffer.Start;
                examined = consumed;
                return Outcome.Message;
            }

            if (result.IsCompleted)
            {
                if (buffer.Length == 0)
                {
                    _ended = true;
                    return Outcome.End;
                }

                throw MessageFraming.TruncatedError(buffer);
            }

            return Outcome.NeedMore;
        }
        finally
        {
            _reader.AdvanceTo(consumed, examined);
        }
    }

    private enum Outcome
    {
        NeedMore,
        Message,
        End,
    }

    private sealed class PayloadContext : DeserializationContext
    {
        public ReadOnlySequence<byte> Payload { get; set; }

        public override int PayloadLength => (int)Payload.Length;

        public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => Payload;
    }
}
