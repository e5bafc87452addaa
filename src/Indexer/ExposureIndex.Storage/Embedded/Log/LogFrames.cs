using ExposureIndex.Contracts.V1;
using System.Buffers;
using Google.Protobuf;

namespace ExposureIndex.Storage.Embedded.Log;

/// <summary>
/// Writes the log's observation frame (<c>LogEntry{observation: LoggedObservation{record, ...}}</c>) by hand.
/// The bytes are exactly what the generated serializer writes (fields in number order; the record is field 1 of
/// both levels), but the record's size is never computed up front: Google.Protobuf does not cache sizes, so
/// serializing the nested frame would walk every string of the record once per level of nesting. The record is
/// written first, after room for the two headers, and the headers are filled in once its size is known.
/// </summary>
internal static class LogFrames
{
    private const byte ObservationTag = (1 << 3) | 2; // LogEntry.observation = 1, length-delimited
    private const byte RecordTag = (1 << 3) | 2;      // LoggedObservation.record = 1, length-delimited
    private const int DataField = 5;                  // ServiceRecord.data

    /// <summary>
    /// Serializes <paramref name="rest"/> (whose <c>Record</c> must be unset) with <paramref name="record"/> as its
    /// record into <paramref name="writer"/>; returns the frame, valid until the writer's next frame.
    /// </summary>
    public static ReadOnlySpan<byte> WriteObservation(LoggedObservation rest, ServiceRecord record, FrameWriter writer)
    {
        if (rest.Record is not null)
        {
            throw new ArgumentException("the frame's other fields are passed without the record", nameof(rest));
        }

        writer.Begin();
        record.WriteTo(writer);
        var recordSize = writer.Body - FrameWriter.HeaderRoom;
        rest.WriteTo(writer);
        var restSize = writer.Body - FrameWriter.HeaderRoom - recordSize;
        var observationSize = 1 + CodedOutputStream.ComputeLengthSize(recordSize) + recordSize + restSize;
        var headerSize = 1 + CodedOutputStream.ComputeLengthSize(observationSize) + 1 + CodedOutputStream.ComputeLengthSize(recordSize);
        var header = writer.Header(headerSize);
        var at = 0;
        header[at++] = ObservationTag;
        at += WriteVarint(header[at..], (uint)observationSize);
        header[at++] = RecordTag;
        WriteVarint(header[at..], (uint)recordSize);
        return writer.Frame;
    }

    private static int WriteVarint(Span<byte> destination, uint value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>
    /// Finds the banner (<c>ServiceRecord.data</c>) inside an observation frame without parsing the rest: phrase
    /// verification reads thousands of frames and needs nothing else. False when the frame is not an observation or
    /// is not shaped as expected (the caller then parses it in full, which reports any corruption precisely).
    /// </summary>
    public static bool TryFindBanner(ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> data)
    {
        data = default;
        return TryFindField(frame, 1, out var observation)  // LogEntry.observation
            && TryFindField(observation, 1, out var record) // LoggedObservation.record
            && TryFindField(record, DataField, out data, absentIsEmpty: true);
    }

    /// <summary>The last occurrence of length-delimited field <paramref name="number"/> (protobuf: the last one wins).</summary>
    private static bool TryFindField(ReadOnlySpan<byte> message, int number, out ReadOnlySpan<byte> value, bool absentIsEmpty = false)
    {
        value = default;
        var found = absentIsEmpty;
        var at = 0;
        while (at < message.Length)
        {
            if (!TryReadVarint(message, ref at, out var tag) || tag >> 3 == 0)
            {
                return false;
            }

            switch ((int)(tag & 7))
            {
                case 0:
                    if (!TryReadVarint(message, ref at, out _))
                    {
                        return false;
                    }

                    break;
                case 1:
                    at += 8;
                    break;
                case 5:
                    at += 4;
                    break;
                case 2:
                    if (!TryReadVarint(message, ref at, out var length) || length > (ulong)(message.Length - at))
                    {
                        return false;
                    }

                    if (tag >> 3 == (ulong)number)
                    {
                        value = message.Slice(at, (int)length);
                        found = true;
                    }

                    at += (int)length;
                    break;
                default:
                    return false; // groups: never written by this store
            }
        }

        return found && at == message.Length;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> source, ref int at, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && at < source.Length; shift += 7)
        {
            var b = source[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// A reusable buffer for one log frame at a time: the body is written through <see cref="IBufferWriter{T}"/> after
/// <see cref="HeaderRoom"/> bytes kept free, and the header is then placed right before the body.
/// </summary>
internal sealed class FrameWriter(int initialSize = 4096) : IBufferWriter<byte>
{
    /// <summary>Room for two tags and two 32-bit varint lengths.</summary>
    public const int HeaderRoom = 12;

    private byte[] _buffer = new byte[Math.Max(initialSize, HeaderRoom + 1)];
    private int _written;
    private int _start;

    /// <summary>Bytes written so far, counting the header room.</summary>
    public int Body => _written;

    public ReadOnlySpan<byte> Frame => _buffer.AsSpan(_start, _written - _start);

    public void Begin()
    {
        _written = HeaderRoom;
        _start = HeaderRoom;
    }

    /// <summary>The <paramref name="size"/> bytes right before the body, which then start the frame.</summary>
    public Span<byte> Header(int size)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, HeaderRoom);
        _start = HeaderRoom - size;
        return _buffer.AsSpan(_start, size);
    }

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint); // before reading _buffer: it may be replaced
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written < needed)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _written + needed));
        }
    }
}
