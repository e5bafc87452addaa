using System.Buffers;
using System.Globalization;

namespace ExposureIndex.Rpc.Core.Internal;

/// <summary>
/// Frames one message into a pooled buffer: reserves the 5-byte prefix, lets the serializer write the
/// payload after it, then patches the length in. Used for single-message requests, which are serialized
/// before the call starts so that a marshalling error or the size limit fails the call locally.
/// </summary>
internal sealed class BufferedFraming : SerializationContext
{
    private readonly PooledBufferWriter _buffer;
    private readonly int _maxSize;
    private bool _completed;

    private BufferedFraming(PooledBufferWriter buffer, int maxSize)
    {
        _buffer = buffer;
        _maxSize = maxSize;
    }

    /// <summary>Returns the framed message; the caller disposes the buffer.</summary>
    public static PooledBufferWriter Frame<T>(T message, Action<T, SerializationContext> serializer, int maxSize)
    {
        var buffer = new PooledBufferWriter();
        try
        {
            buffer.GetSpan(MessageFraming.HeaderSize);
            buffer.Advance(MessageFraming.HeaderSize);
            var context = new BufferedFraming(buffer, maxSize);
            serializer(message, context);
            if (!context._completed)
            {
                throw new InvalidOperationException("The message serializer returned without calling SerializationContext.Complete().");
            }

            var length = buffer.Count - MessageFraming.HeaderSize;
            context.CheckSize(length);
            MessageFraming.WriteHeader(buffer.WrittenSpanForUpdate, length);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    public override void SetPayloadLength(int payloadLength) => CheckSize(payloadLength);

    public override IBufferWriter<byte> GetBufferWriter() => _buffer;

    public override void Complete() => _completed = true;

    private void CheckSize(int length)
    {
        if (length > _maxSize)
        {
            throw new RpcException(new Status(
                StatusCode.ResourceExhausted,
                string.Create(CultureInfo.InvariantCulture, $"Sending message of {length} bytes exceeds the limit of {_maxSize} bytes.")));
        }
    }
}
