using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;

namespace ExposureIndex.Rpc.Core;

/// <summary>
/// Length-Prefixed-Message framing (PROTOCOL-HTTP2): a 1-byte Compressed-Flag, a 4-byte big-endian
/// Message-Length, then the message. Message boundaries are unrelated to DATA frame boundaries, so
/// the decoder works on whatever bytes have arrived so far and never assumes alignment.
/// </summary>
public static class MessageFraming
{
    /// <summary>Size of the prefix: flag + length.</summary>
    public const int HeaderSize = 5;

    /// <summary>Writes the 5-byte prefix of an uncompressed message.</summary>
    public static void WriteHeader(Span<byte> destination, int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        if (destination.Length < HeaderSize)
        {
            throw new ArgumentException($"A message header needs {HeaderSize} bytes, the destination has {destination.Length}.", nameof(destination));
        }

        destination[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)payloadLength);
    }

    /// <summary>Frames one payload into a new array (tests and diagnostics; the transport writes in place).</summary>
    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var framed = new byte[HeaderSize + payload.Length];
        WriteHeader(framed, payload.Length);
        payload.CopyTo(framed.AsSpan(HeaderSize));
        return framed;
    }

    /// <summary>
    /// Tries to take one whole message from the front of <paramref name="buffer"/>. Returns false when
    /// more bytes are needed. The length limit and the flag are checked as soon as the 5-byte prefix is
    /// present, before any payload is waited for or buffered: an oversized message fails with
    /// RESOURCE_EXHAUSTED, a compressed one with INTERNAL (we only support identity encoding).
    /// </summary>
    /// <param name="buffer">Received bytes; on success, advanced past the message.</param>
    /// <param name="maxMessageSize">Largest accepted payload.</param>
    /// <param name="payload">The message payload, a slice of the input (no copy).</param>
    /// <exception cref="RpcException">The prefix is invalid or announces too large a message.</exception>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxMessageSize, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        var length = ReadAndCheckHeader(buffer, maxMessageSize);
        if (buffer.Length - HeaderSize < length)
        {
            return false;
        }

        payload = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>The error for a stream that ended in the middle of a message, naming the announced length.</summary>
    public static RpcException TruncatedError(in ReadOnlySequence<byte> remaining)
    {
        if (remaining.Length < HeaderSize)
        {
            return new RpcException(new Status(
                StatusCode.Internal,
                string.Create(CultureInfo.InvariantCulture, $"gRPC message is truncated: the stream ended {remaining.Length} byte(s) into the {HeaderSize}-byte message prefix.")));
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        remaining.Slice(0, HeaderSize).CopyTo(header);
        var announced = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        return new RpcException(new Status(
            StatusCode.Internal,
            string.Create(CultureInfo.InvariantCulture, $"gRPC message is truncated: the prefix announced {announced} payload bytes but the stream ended after {remaining.Length - HeaderSize}.")));
    }

    private static int ReadAndCheckHeader(in ReadOnlySequence<byte> buffer, int maxMessageSize)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        var first = buffer.FirstSpan;
        if (first.Length >= HeaderSize)
        {
            first[..HeaderSize].CopyTo(header);
        }
        else
        {
            buffer.Slice(0, HeaderSize).CopyTo(header);
        }

        switch (header[0])
        {
            case 0:
                break;
            case 1:
                throw new RpcException(new Status(
                    StatusCode.Internal,
                    "Received a compressed message (Compressed-Flag 1), but this endpoint only supports the 'identity' encoding (grpc-accept-encoding: identity)."));
            default:
                throw new RpcException(new Status(
                    StatusCode.Internal,
                    string.Create(CultureInfo.InvariantCulture, $"Invalid gRPC message prefix: Compressed-Flag is 0x{header[0]:X2}, expected 0 or 1.")));
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxMessageSize)
        {
            throw new RpcException(new Status(
                StatusCode.ResourceExhausted,
                string.Create(CultureInfo.InvariantCulture, $"Received message of {length} bytes exceeds the limit of {maxMessageSize} bytes.")));
        }

        return (int)length;
    }
}
