using System.Buffers;
using System.IO.Pipelines;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Core.Internal;

namespace ExposureIndex.Rpc.Tests.Framing;

public sealed class MessageFramingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    // Sizes chosen to cover the empty message, a header-sized one and lengths whose prefix bytes differ.
    private static readonly byte[][] Messages =
    [
        [],
        [0x42],
        Pattern(5, 1),
        Pattern(255, 2),
        Pattern(256, 3),
        Pattern(700, 4),
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Func<DeserializationContext, byte[]> Copy = context => context.PayloadAsNewBuffer();

    [Fact]
    public void WriteHeader_Length_IsFlagZeroThenBigEndianLength()
    {
        var header = new byte[5];
        MessageFraming.WriteHeader(header, 0x01020304);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4 }, header);
    }

    [Fact]
    public void TryReadMessage_InputSplitIntoTwoSegmentsAtEveryPoint_YieldsSameMessages()
    {
        var stream = Concat(Messages.Select(m => MessageFraming.Frame(m)));
        for (var split = 0; split <= stream.Length; split++)
        {
            var sequence = Segments(stream[..split], stream[split..]);
            Assert.Equal(Messages, DrainSequence(sequence));
        }
    }

    [Fact]
    public void TryReadMessage_EveryByteItsOwnSegment_YieldsSameMessages()
    {
        var stream = Concat(Messages.Select(m => MessageFraming.Frame(m)));
        var sequence = Segments(stream.Select(b => new[] { b }).ToArray());
        Assert.Equal(Messages, DrainSequence(sequence));
    }

    [Fact]
    public void TryReadMessage_EveryIncompletePrefix_AsksForMoreWithoutConsuming()
    {
        var framed = MessageFraming.Frame(Pattern(300, 9));
        for (var length = 0; length < framed.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(framed, 0, length);
            var before = buffer;
            Assert.False(MessageFraming.TryReadMessage(ref buffer, 1024, out _));
            Assert.Equal(before.Length, buffer.Length);
        }
    }

    [Fact]
    public async Task PipeReader_ChunkedAtEveryPoint_YieldsSameMessages()
    {
        var stream = Concat(Messages.Select(m => MessageFraming.Frame(m)));
        for (var split = 0; split <= stream.Length; split++)
        {
            var received = await ReadThroughPipeAsync([stream[..split], stream[split..]]);
            Assert.Equal(Messages, received);
        }
    }

    [Fact]
    public async Task PipeReader_OneByteChunks_YieldsSameMessages()
    {
        var stream = Concat(Messages.Select(m => MessageFraming.Frame(m)));
        var received = await ReadThroughPipeAsync(stream.Select(b => new[] { b }).ToArray());
        Assert.Equal(Messages, received);
    }

    [Fact]
    public async Task PipeReader_RandomChunking_YieldsSameMessages()
    {
        var random = new Random(20240611);
        var messages = Enumerable.Range(0, 200).Select(i => Pattern(random.Next(0, 3000), (byte)i)).ToArray();
        var stream = Concat(messages.Select(m => MessageFraming.Frame(m)));
        for (var round = 0; round < 20; round++)
        {
            var chunks = new List<byte[]>();
            for (var offset = 0; offset < stream.Length;)
            {
                var size = Math.Min(random.Next(1, 9000), stream.Length - offset);
                chunks.Add(stream[offset..(offset + size)]);
                offset += size;
            }

            Assert.Equal(messages, await ReadThroughPipeAsync(chunks));
        }
    }

    [Fact]
    public async Task PipeReader_ManyMessagesInOneChunk_ReadsAllWithoutAwaiting()
    {
        var messages = Enumerable.Range(0, 50).Select(i => Pattern(i, (byte)i)).ToArray();
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Concat(messages.Select(m => MessageFraming.Frame(m))), Ct);
        var reader = new PipeMessageReader<byte[]>(pipe.Reader, 1024, Copy);
        foreach (var expected in messages)
        {
            var next = reader.ReadNextAsync(Ct);
            Assert.True(next.IsCompletedSuccessfully, "a message already buffered must not need an await");
            Assert.True(await next);
            Assert.Equal(expected, reader.Current);
        }
    }

    [Fact]
    public async Task PipeReader_PrefixAnnouncesTooLargeMessage_FailsBeforePayloadArrives()
    {
        var pipe = new Pipe();
        var header = new byte[5];
        MessageFraming.WriteHeader(header, 64 * 1024 * 1024);
        await pipe.Writer.WriteAsync(header, Ct);

        // Only the prefix was sent and the writer stays open: the limit must be enforced now, not after
        // buffering 64 MiB.
        var reader = new PipeMessageReader<byte[]>(pipe.Reader, 1024, Copy);
        var error = await Assert.ThrowsAsync<RpcException>(() => reader.ReadNextAsync(Ct).AsTask().WaitAsync(Bound, Ct));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("67108864", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("1024", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TryReadMessage_LengthExactlyAtLimit_IsAccepted()
    {
        var buffer = new ReadOnlySequence<byte>(MessageFraming.Frame(Pattern(1024, 7)));
        Assert.True(MessageFraming.TryReadMessage(ref buffer, 1024, out var payload));
        Assert.Equal(1024, payload.Length);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void TryReadMessage_LengthOneOverLimit_IsResourceExhausted()
    {
        var buffer = new ReadOnlySequence<byte>(MessageFraming.Frame(Pattern(1025, 7)));
        var error = Assert.Throws<RpcException>(() => MessageFraming.TryReadMessage(ref buffer, 1024, out _));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task PipeReader_StreamEndsInsidePayload_IsInternalNamingTheShortfall()
    {
        var framed = MessageFraming.Frame(Pattern(100, 1));
        var error = await Assert.ThrowsAsync<RpcException>(() => ReadThroughPipeAsync([framed[..40]]));
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Contains("truncated", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("announced 100", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("after 35", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PipeReader_StreamEndsInsidePrefix_IsInternal()
    {
        var framed = MessageFraming.Frame(Pattern(10, 1));
        var error = await Assert.ThrowsAsync<RpcException>(() => ReadThroughPipeAsync([framed, new byte[] { 0, 0, 0 }]));
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Contains("3 byte(s) into the 5-byte message prefix", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PipeReader_EmptyStream_EndsCleanly()
    {
        Assert.Empty(await ReadThroughPipeAsync([]));
    }

    [Fact]
    public void TryReadMessage_CompressedFlag_IsRejectedNamingIdentity()
    {
        var framed = MessageFraming.Frame(Pattern(10, 1));
        framed[0] = 1;
        var buffer = new ReadOnlySequence<byte>(framed);
        var error = Assert.Throws<RpcException>(() => MessageFraming.TryReadMessage(ref buffer, 1024, out _));
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Contains("compressed", error.Status.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("identity", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TryReadMessage_InvalidFlag_IsInternal()
    {
        var framed = MessageFraming.Frame(Pattern(10, 1));
        framed[0] = 0x80;
        var buffer = new ReadOnlySequence<byte>(framed);
        var error = Assert.Throws<RpcException>(() => MessageFraming.TryReadMessage(ref buffer, 1024, out _));
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Contains("0x80", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PipeWriter_Messages_AreFramedExactly()
    {
        var pipe = new Pipe();
        using var writer = new PipeMessageWriter(pipe.Writer, int.MaxValue, Ct);
        foreach (var message in Messages)
        {
            await writer.WriteAsync(message, RawMarshaller.ContextualSerializer, Ct);
        }

        Assert.True(await writer.TryCloseAsync(flush: true));
        await pipe.Writer.CompleteAsync();
        var written = await ReadAllAsync(pipe.Reader);
        Assert.Equal(Concat(Messages.Select(m => MessageFraming.Frame(m))), written);
    }

    [Fact]
    public async Task PipeWriter_UnannouncedLength_IsBufferedThenFramed()
    {
        var unannounced = new Marshaller<byte[]>(
            (message, context) =>
            {
                // Written in pieces, without SetPayloadLength: the framer must buffer and prefix it.
                var output = context.GetBufferWriter();
                foreach (var chunk in message.Chunk(7))
                {
                    output.Write(chunk);
                }

                context.Complete();
            },
            Copy);
        var pipe = new Pipe();
        using var writer = new PipeMessageWriter(pipe.Writer, int.MaxValue, Ct);
        foreach (var message in Messages)
        {
            await writer.WriteAsync(message, unannounced.ContextualSerializer, Ct);
        }

        await writer.TryCloseAsync(flush: true);
        await pipe.Writer.CompleteAsync();
        Assert.Equal(Concat(Messages.Select(m => MessageFraming.Frame(m))), await ReadAllAsync(pipe.Reader));
    }

    [Fact]
    public async Task PipeWriter_MessageOverSendLimit_IsResourceExhaustedAndWritesNothing()
    {
        var pipe = new Pipe();
        using var writer = new PipeMessageWriter(pipe.Writer, 100, Ct);
        var error = await Assert.ThrowsAsync<RpcException>(() => writer.WriteAsync(Pattern(101, 1), RawMarshaller.ContextualSerializer, Ct).AsTask());
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.False(writer.IsCorrupted);

        await writer.WriteAsync(Pattern(100, 2), RawMarshaller.ContextualSerializer, Ct);
        await writer.TryCloseAsync(flush: true);
        await pipe.Writer.CompleteAsync();
        Assert.Equal(MessageFraming.Frame(Pattern(100, 2)), await ReadAllAsync(pipe.Reader));
    }

    [Fact]
    public async Task PipeWriter_SerializerLiesAboutLength_MarksStreamCorrupted()
    {
        var liar = new Marshaller<byte[]>(
            (message, context) =>
            {
                context.SetPayloadLength(message.Length + 1);
                context.GetBufferWriter().Write(message);
                context.Complete();
            },
            Copy);
        var pipe = new Pipe();
        using var writer = new PipeMessageWriter(pipe.Writer, int.MaxValue, Ct);
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteAsync(Pattern(10, 1), liar.ContextualSerializer, Ct).AsTask());
        Assert.True(writer.IsCorrupted);
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteAsync(Pattern(10, 1), RawMarshaller.ContextualSerializer, Ct).AsTask());
    }

    [Fact]
    public async Task PipeWriter_SingleSmallMessage_IsFlushedWithoutFurtherWrites()
    {
        // The batching must never strand a message: one small write, no more writes, no close. The
        // reader has to see it (the idle flush runs once the writer yields its thread).
        var pipe = new Pipe();
        using var writer = new PipeMessageWriter(pipe.Writer, int.MaxValue, Ct);
        await writer.WriteAsync(Pattern(10, 3), RawMarshaller.ContextualSerializer, Ct);

        var reader = new PipeMessageReader<byte[]>(pipe.Reader, 1024, Copy);
        Assert.True(await reader.ReadNextAsync(Ct).AsTask().WaitAsync(Bound, Ct));
        Assert.Equal(Pattern(10, 3), reader.Current);
    }

    [Fact]
    public async Task PipeWriter_PingPong_EveryMessageReachesPeerWithoutMoreWrites()
    {
        var requests = new Pipe();
        var replies = new Pipe();
        using var clientWriter = new PipeMessageWriter(requests.Writer, int.MaxValue, Ct);
        using var serverWriter = new PipeMessageWriter(replies.Writer, int.MaxValue, Ct);
        var serverReader = new PipeMessageReader<byte[]>(requests.Reader, 1024, Copy);
        var clientReader = new PipeMessageReader<byte[]>(replies.Reader, 1024, Copy);

        var server = Task.Run(async () =>
        {
            while (await serverReader.ReadNextAsync(Ct))
            {
                await serverWriter.WriteAsync(serverReader.Current, RawMarshaller.ContextualSerializer, Ct);
            }
        }, Ct);

        for (var i = 0; i < 500; i++)
        {
            var message = Pattern(i % 50, (byte)i);
            await clientWriter.WriteAsync(message, RawMarshaller.ContextualSerializer, Ct);
            Assert.True(await clientReader.ReadNextAsync(Ct).AsTask().WaitAsync(Bound, Ct));
            Assert.Equal(message, clientReader.Current);
        }

        await clientWriter.TryCloseAsync(flush: true);
        await requests.Writer.CompleteAsync();
        await server.WaitAsync(Bound, Ct);
    }

    [Fact]
    public async Task ProtobufMarshaller_MultiSegmentPayload_RoundTrips()
    {
        var marshaller = Marshallers.ForProtobuf<Conformance.EchoRequest>();
        var request = new Conformance.EchoRequest { Text = "héllo", Repeat = 3, Payload = Google.Protobuf.ByteString.CopyFrom(Pattern(5000, 5)) };
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 64));
        using var writer = new PipeMessageWriter(pipe.Writer, int.MaxValue, Ct);
        await writer.WriteAsync(request, marshaller.ContextualSerializer, Ct);
        await writer.TryCloseAsync(flush: true);
        await pipe.Writer.CompleteAsync();
        var framed = await ReadAllAsync(pipe.Reader);

        for (var split = 0; split < framed.Length; split += 97)
        {
            var received = await ReadThroughPipeAsync([framed[..split], framed[split..]], marshaller.ContextualDeserializer);
            Assert.Equal(request, Assert.Single(received));
        }
    }

    private static readonly Marshaller<byte[]> RawMarshaller = new(
        (message, context) =>
        {
            context.SetPayloadLength(message.Length);
            context.GetBufferWriter().Write(message);
            context.Complete();
        },
        Copy);

    private static List<byte[]> DrainSequence(ReadOnlySequence<byte> sequence)
    {
        var messages = new List<byte[]>();
        while (MessageFraming.TryReadMessage(ref sequence, 1024, out var payload))
        {
            messages.Add(payload.ToArray());
        }

        Assert.True(sequence.IsEmpty);
        return messages;
    }

    private static Task<List<byte[]>> ReadThroughPipeAsync(IReadOnlyList<byte[]> chunks) => ReadThroughPipeAsync(chunks, Copy);

    private static async Task<List<T>> ReadThroughPipeAsync<T>(IReadOnlyList<byte[]> chunks, Func<DeserializationContext, T> deserializer)
    {
        // A tiny segment size makes the pipe hand out multi-segment buffers, as sockets do.
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 16, pauseWriterThreshold: 0));
        var reader = new PipeMessageReader<T>(pipe.Reader, 1 << 20, deserializer);
        var received = new List<T>();
        var consume = Task.Run(async () =>
        {
            while (await reader.ReadNextAsync(Ct))
            {
                received.Add(reader.Current);
            }
        }, Ct);

        foreach (var chunk in chunks)
        {
            await pipe.Writer.WriteAsync(chunk, Ct);
        }

        await pipe.Writer.CompleteAsync();
        await consume.WaitAsync(Bound, Ct);
        return received;
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader reader)
    {
        var output = new MemoryStream();
        while (true)
        {
            var result = await reader.ReadAsync(Ct).AsTask().WaitAsync(Bound, Ct);
            foreach (var segment in result.Buffer)
            {
                output.Write(segment.Span);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return output.ToArray();
            }
        }
    }

    private static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        Segment? first = null;
        Segment? last = null;
        foreach (var part in parts)
        {
            var next = new Segment(part, last?.RunningIndex + last?.Memory.Length ?? 0);
            if (last is null)
            {
                first = next;
            }
            else
            {
                last.SetNext(next);
            }

            last = next;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private static byte[] Pattern(int length, byte seed) =>
        Enumerable.Range(0, length).Select(i => (byte)((i * 31) + seed)).ToArray();

    private static byte[] Concat(IEnumerable<byte[]> parts) => parts.SelectMany(p => p).ToArray();

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
