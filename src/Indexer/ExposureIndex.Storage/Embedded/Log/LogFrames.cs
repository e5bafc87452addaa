using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Storage.Embedded.Log;

/// <summary>
/// Writes the log's observation frame (<c>LogEntry{observation: LoggedObservation{record, ...}}</c>) by hand.
/// The bytes are exactly what the generated serializer writes (fields in number order; the record is field 1 of
/// both levels), but the record's size is computed once instead of three times: Google.Protobuf does not cache
/// sizes, so serializing the nested frame would walk every string of the record for each level of nesting.
/// </summary>
internal static class LogFrames
{
    private const byte ObservationTag = (1 << 3) | 2; // LogEntry.observation = 1, length-delimited
    private const byte RecordTag = (1 << 3) | 2;      // LoggedObservation.record = 1, length-delimited

    /// <summary>
    /// Serializes <paramref name="rest"/> (whose <c>Record</c> must be unset) with <paramref name="record"/> as its
    /// record into <paramref name="buffer"/>, growing it as needed; returns the frame's length.
    /// </summary>
    public static int WriteObservation(LoggedObservation rest, ServiceRecord record, ref byte[] buffer)
    {
        if (rest.Record is not null)
        {
            throw new ArgumentException("the frame's other fields are passed without the record", nameof(rest));
        }

        var recordSize = record.CalculateSize();
        var restSize = rest.CalculateSize();
        var observationSize = 1 + CodedOutputStream.ComputeLengthSize(recordSize) + recordSize + restSize;
        var total = 1 + CodedOutputStream.ComputeLengthSize(observationSize) + observationSize;
        if (buffer.Length < total)
        {
            buffer = new byte[Math.Max(total, buffer.Length * 2)];
        }

        var span = buffer.AsSpan(0, total);
        var at = 0;
        span[at++] = ObservationTag;
        at += WriteVarint(span[at..], (uint)observationSize);
        span[at++] = RecordTag;
        at += WriteVarint(span[at..], (uint)recordSize);
        record.WriteTo(span.Slice(at, recordSize));
        at += recordSize;
        rest.WriteTo(span.Slice(at, restSize));
        return total;
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
}
