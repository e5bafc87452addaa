namespace ExposureIndex.Grabbers.Mqtt;

/// <summary>
/// Incremental parser of the broker's answer to CONNECT: one CONNACK control packet (MQTT 3.1.1 §2.2, §3.2).
/// The fixed header is a type byte (0x20) and a variable-length "remaining length" (§2.2.3, at most four bytes);
/// the variable header is the acknowledge flags and the return code. A remaining length over
/// <see cref="MaxRemainingLength"/> is refused before anything is buffered. Pure: no sockets, no clock.
/// </summary>
internal sealed class MqttParser : IIncrementalParser<MqttResult>
{
    /// <summary>A 3.1.1 CONNACK has 2; an MQTT 5 one adds properties (a reason string at most, in practice small).</summary>
    public const int MaxRemainingLength = 4096;

    private readonly List<byte> _body = new(8);
    private ParseStatus _status = ParseStatus.NeedMore;
    private int _headerBytes;
    private int _remainingLength = -1;
    private int _lengthMultiplierShift;
    private int _lengthAccumulator;

    public MqttResult? Result { get; private set; }

    public string? Error { get; private set; }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        var i = 0;
        while (i < chunk.Length && _status == ParseStatus.NeedMore)
        {
            if (_headerBytes == 0)
            {
                var b = chunk[i++];
                _headerBytes = 1;
                if (b != 0x20)
                {
                    // §3.2.1: CONNACK is type 2 with all flag bits zero.
                    return Fail(b >> 4 == 2
                        ? $"CONNACK fixed header has reserved flags 0x{b & 0x0F:x1} set"
                        : $"expected a CONNACK (0x20) but got packet type {b >> 4} (byte 0x{b:x2})");
                }
            }
            else if (_remainingLength < 0)
            {
                // §2.2.3: seven bits per byte, continuation in the top bit, at most four bytes.
                var b = chunk[i++];
                _headerBytes++;
                _lengthAccumulator |= (b & 0x7F) << _lengthMultiplierShift;
                _lengthMultiplierShift += 7;
                if ((b & 0x80) != 0)
                {
                    if (_headerBytes > 4)
                    {
                        return Fail("CONNACK remaining length runs past four bytes");
                    }

                    continue;
                }

                _remainingLength = _lengthAccumulator;
                if (_remainingLength < 2)
                {
                    return Fail($"CONNACK remaining length {_remainingLength} is under the 2 bytes it must carry");
                }

                if (_remainingLength > MaxRemainingLength)
                {
                    return Fail($"CONNACK remaining length {_remainingLength} is over the {MaxRemainingLength}-byte cap");
                }
            }
            else
            {
                var take = Math.Min(_remainingLength - _body.Count, chunk.Length - i);
                _body.AddRange(chunk.Slice(i, take));
                i += take;
                if (_body.Count == _remainingLength)
                {
                    // §3.2.2.1: bits 7-1 of the acknowledge flags are reserved; brokers set only bit 0.
                    Result = new MqttResult(_body[1], (_body[0] & 0x01) != 0, _remainingLength);
                    _status = ParseStatus.Complete;
                }
            }
        }

        return _status;
    }

    public ParseStatus End()
    {
        if (_status == ParseStatus.NeedMore)
        {
            return Fail(_headerBytes == 0 ? "the broker closed without answering CONNECT" : "the broker closed inside the CONNACK");
        }

        return _status;
    }

    private ParseStatus Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
        return _status;
    }
}
