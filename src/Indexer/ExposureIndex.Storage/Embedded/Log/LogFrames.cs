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
    private const int DataField = 5;                  // ServiceRecord.data

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
