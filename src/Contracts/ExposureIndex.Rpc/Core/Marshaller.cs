using System.Buffers;

namespace ExposureIndex.Rpc.Core;

/// <summary>
/// Turns messages of type <typeparamref name="T"/> into payload bytes and back. Serializers that know the
/// payload length up front call <see cref="SerializationContext.SetPayloadLength"/> first, which lets the
/// framer write straight into the transport's buffers without an intermediate copy.
/// </summary>
public sealed class Marshaller<T>
{
    /// <summary>Creates a marshaller from context-based functions (the zero-copy form).</summary>
    public Marshaller(Action<T, SerializationContext> serializer, Func<DeserializationContext, T> deserializer)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentNullException.ThrowIfNull(deserializer);
        ContextualSerializer = serializer;
        ContextualDeserializer = deserializer;
    }

    /// <summary>Creates a marshaller from byte-array functions (simple, but copies).</summary>
    public Marshaller(Func<T, byte[]> serializer, Func<byte[], T> deserializer)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentNullException.ThrowIfNull(deserializer);
        ContextualSerializer = (message, context) => context.Complete(serializer(message));
        ContextualDeserializer = context => deserializer(context.PayloadAsNewBuffer());
    }

    /// <summary>Writes one message through a <see cref="SerializationContext"/>.</summary>
    public Action<T, SerializationContext> ContextualSerializer { get; }

    /// <summary>Reads one message from a <see cref="DeserializationContext"/>.</summary>
    public Func<DeserializationContext, T> ContextualDeserializer { get; }
}

/// <summary>Where a serializer writes one message payload.</summary>
public abstract class SerializationContext
{
    /// <summary>Announces the exact payload length before writing (optional, enables zero-copy framing).</summary>
    public abstract void SetPayloadLength(int payloadLength);

    /// <summary>The buffer writer that receives the payload bytes.</summary>
    public abstract IBufferWriter<byte> GetBufferWriter();

    /// <summary>Marks the payload written through <see cref="GetBufferWriter"/> as complete.</summary>
    public abstract void Complete();

    /// <summary>Supplies the whole payload at once.</summary>
    public virtual void Complete(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        SetPayloadLength(payload.Length);
        var writer = GetBufferWriter();
        writer.Write(payload);
        Complete();
    }
}

/// <summary>Where a deserializer reads one message payload. Valid only during the deserializer call.</summary>
public abstract class DeserializationContext
{
    /// <summary>Length of the payload in bytes.</summary>
    public abstract int PayloadLength { get; }

    /// <summary>The payload, without copying. Do not keep it past the deserializer call.</summary>
    public abstract ReadOnlySequence<byte> PayloadAsReadOnlySequence();

    /// <summary>The payload copied into a new array.</summary>
    public virtual byte[] PayloadAsNewBuffer() => PayloadAsReadOnlySequence().ToArray();
}
