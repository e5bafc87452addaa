using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;

namespace ExposureIndex.Grabbers.Rdp;

/// <summary>What kind of X.224 TPDU answered our Connection Request.</summary>
internal enum RdpReplyKind
{
    /// <summary>X.224 Connection Confirm (code 0xD0), possibly with an RDP_NEG_RSP or RDP_NEG_FAILURE.</summary>
    ConnectionConfirm,

    /// <summary>An X.224 Data TPDU carrying an MCS Disconnect Provider Ultimatum (T.125 §7): the server hung up.</summary>
    DisconnectUltimatum,

    /// <summary>Another X.224 TPDU (a Data TPDU with other content, a Disconnect Request ...).</summary>
    Other,
}

/// <summary>The server's answer to an X.224 Connection Request (MS-RDPBCGR §2.2.1.2).</summary>
/// <param name="NegotiationType">2 = RDP_NEG_RSP, 3 = RDP_NEG_FAILURE, 0 = none (a pre-RDP 5.2 server).</param>
internal sealed record RdpResult(RdpReplyKind Kind, int TpduCode, int DestinationReference, int SourceReference, int NegotiationType, int Flags, uint SelectedProtocol, uint FailureCode)
{
    public string Canonical() => string.Create(CultureInfo.InvariantCulture, $"{Kind}|{TpduCode:x2}|{DestinationReference}|{SourceReference}|{NegotiationType}|{Flags}|{SelectedProtocol}|{FailureCode}");
}

/// <summary>
/// Incremental parser of the TPKT-framed reply to an X.224 Connection Request (RFC 1006 §6: version 3, a reserved
/// byte, a 16-bit length; then the X.224 TPDU of ITU-T X.224 §13). A Connection Confirm may carry the 8-byte
/// RDP_NEG_RSP or RDP_NEG_FAILURE of MS-RDPBCGR §2.2.1.2.1-2. Pure: no sockets, no clock.
/// </summary>
internal sealed class RdpParser : IIncrementalParser<RdpResult>
{
    /// <summary>A Connection Confirm is 11-19 bytes; allow some slack for odd servers, refuse more.</summary>
    public const int MaxPacketBytes = 1024;

    private readonly List<byte> _buffer = new(32);
    private int _length = -1;
    private ParseStatus _status = ParseStatus.NeedMore;

    public RdpResult? Result { get; private set; }

    public string? Error { get; private set; }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        if (_status != ParseStatus.NeedMore || chunk.IsEmpty)
        {
            return _status;
        }

        _buffer.AddRange(chunk[..Math.Min(chunk.Length, MaxPacketBytes - _buffer.Count)]);
        var data = CollectionsMarshal.AsSpan(_buffer);
        if (data[0] != 0x03)
        {
            return Fail($"TPKT version is {data[0]}, not 3 (the reply is not RDP)");
        }

        if (_length < 0)
        {
            if (data.Length < 4)
            {
                return _status;
            }

            _length = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
            if (_length < 7)
            {
                return Fail($"TPKT length {_length} is too short for an X.224 TPDU");
            }

            if (_length > MaxPacketBytes)
            {
                return Fail($"TPKT length {_length} is over the {MaxPacketBytes}-byte cap for a connection reply");
            }
        }

        if (data.Length < _length)
        {
            return _status;
        }

        return Parse(data[.._length]);
    }

    public ParseStatus End()
        => _status == ParseStatus.NeedMore
            ? Fail(_buffer.Count == 0 ? "the server closed without answering the connection request" : $"the server closed after {_buffer.Count} bytes of its reply")
            : _status;

    private ParseStatus Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
        return _status;
    }

    private ParseStatus Parse(ReadOnlySpan<byte> packet)
    {
        var tpdu = packet[4..];
        var lengthIndicator = tpdu[0];
        if (lengthIndicator + 1 > tpdu.Length || lengthIndicator < 2)
        {
            return Fail($"X.224 length indicator {lengthIndicator} does not fit the {tpdu.Length}-byte TPDU");
        }

        var code = tpdu[1] & 0xF0;
        if (code == 0xF0)
        {
            // Data TPDU (X.224 §13.7): LI 2, code, EOT; then the user data. T.125 DisconnectProviderUltimatum is
            // PER-encoded as 0x21 0x80 (choice 8 << 2, reason in the following bits).
            var user = tpdu[(lengthIndicator + 1)..];
            var kind = user.Length >= 1 && (user[0] & 0xFC) == 0x20 ? RdpReplyKind.DisconnectUltimatum : RdpReplyKind.Other;
            Result = new RdpResult(kind, code, 0, 0, 0, 0, 0, 0);
            _status = ParseStatus.Complete;
            return _status;
        }

        if (code != 0xD0)
        {
            Result = new RdpResult(RdpReplyKind.Other, code, 0, 0, 0, 0, 0, 0);
            _status = ParseStatus.Complete;
            return _status;
        }

        if (lengthIndicator < 6)
        {
            return Fail($"X.224 Connection Confirm length indicator {lengthIndicator} is under 6");
        }

        var destination = BinaryPrimitives.ReadUInt16BigEndian(tpdu[2..]);
        var source = BinaryPrimitives.ReadUInt16BigEndian(tpdu[4..]);
        int negotiationType = 0, flags = 0;
        uint selected = 0, failure = 0;
        var variable = tpdu[7..(lengthIndicator + 1)];
        if (variable.Length >= 8)
        {
            // RDP_NEG_RSP / RDP_NEG_FAILURE: type, flags, length (16-bit LE, 8), then a 32-bit LE value.
            negotiationType = variable[0];
            flags = variable[1];
            var length = BinaryPrimitives.ReadUInt16LittleEndian(variable[2..]);
            if (length != 8)
            {
                return Fail($"RDP negotiation structure length is {length}, not 8");
            }

            var value = BinaryPrimitives.ReadUInt32LittleEndian(variable[4..]);
            switch (negotiationType)
            {
                case 2:
                    selected = value;
                    break;
                case 3:
                    failure = value;
                    break;
                default:
                    return Fail($"RDP negotiation type {negotiationType} is neither a response (2) nor a failure (3)");
            }
        }

        Result = new RdpResult(RdpReplyKind.ConnectionConfirm, code, destination, source, negotiationType, flags, selected, failure);
        _status = ParseStatus.Complete;
        return _status;
    }
}
