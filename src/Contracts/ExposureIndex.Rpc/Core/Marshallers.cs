using Google.Protobuf;

namespace ExposureIndex.Rpc.Core;

/// <summary>Ready-made marshallers.</summary>
public static class Marshallers
{
    /// <summary>
    /// The marshaller for a Google.Protobuf message type. Serializes into the framer's pooled buffer
    /// without announcing the length, and parses straight from the received (possibly multi-segment)
    /// transport buffer without copying it.
    /// </summary>
    /// <remarks>
    /// Google.Protobuf for C# caches no sizes: WriteTo recomputes every nested message's size, so sizing
    /// first (to write the prefix ahead of the payload) adds a full extra pass. Measured on a
    /// 1,000-record PublishBatch (355 KB): CalculateSize 0.5 ms, WriteTo 0.9 ms, while copying the
    /// buffered 355 KB into the transport costs about 0.04 ms. The copy is the cheaper choice.
    /// </remarks>
    public static Marshaller<T> ForProtobuf<T>()
        where T : IMessage<T>, new() => ProtobufMarshaller<T>.Instance;

    private static class ProtobufMarshaller<T>
        where T : IMessage<T>, new()
    {
        private static readonly MessageParser<T> Parser = new(() => new T());

        public static readonly Marshaller<T> Instance = new(Serialize, Deserialize);

        private static void Serialize(T message, SerializationContext context)
        {
            message.WriteTo(context.GetBufferWriter());
            context.Complete();
        }

        private static T Deserialize(DeserializationContext context) =>
            Parser.ParseFrom(context.PayloadAsReadOnlySequence());
    }
}
