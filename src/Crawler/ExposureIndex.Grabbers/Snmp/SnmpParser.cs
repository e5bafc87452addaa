using System.Globalization;
using System.Runtime.InteropServices;

namespace ExposureIndex.Grabbers.Snmp;

/// <summary>
/// Incremental parser of one SNMPv1/v2c message holding a response PDU (RFC 3416 §3): SEQUENCE { version,
/// community, GetResponse-PDU { request-id, error-status, error-index, variable-bindings } }. The outer length is
/// checked against <see cref="MaxMessageBytes"/> (the largest UDP payload) before buffering; at most
/// <see cref="MaxVarBinds"/> bindings are kept. Pure: no sockets, no clock.
/// </summary>
internal sealed class SnmpParser : IIncrementalParser<SnmpResult>
{
    public const int MaxMessageBytes = 65_507;
    public const int MaxVarBinds = 64;
    private const int MaxTextChars = 4096;

    /// <summary>GetResponse-PDU ([2], RFC 1157 §4.1.4 and RFC 3416 §3) and Report-PDU ([8]).</summary>
    private const byte ResponsePdu = 0xA2;
    private const byte ReportPdu = 0xA8;

    private readonly List<byte> _buffer = new(512);
    private ParseStatus _status = ParseStatus.NeedMore;

    public SnmpResult? Result { get; private set; }

    public string? Error { get; private set; }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        if (_status != ParseStatus.NeedMore || chunk.IsEmpty)
        {
            return _status;
        }

        _buffer.AddRange(chunk[..Math.Min(chunk.Length, MaxMessageBytes + 8 - _buffer.Count)]);
        var data = CollectionsMarshal.AsSpan(_buffer);
        if (data[0] != Ber.Sequence)
        {
            return Fail($"SNMP message starts with 0x{data[0]:x2}, not a SEQUENCE");
        }

        var measure = Ber.TryMeasure(data, MaxMessageBytes, out var total, out var error);
        if (measure == ParseStatus.Invalid)
        {
            return Fail("SNMP message: " + error);
        }

        if (measure == ParseStatus.NeedMore)
        {
            return _status;
        }

        try
        {
            Result = Parse(data[..total]);
            _status = ParseStatus.Complete;
            return _status;
        }
        catch (BerException e)
        {
            return Fail(e.Message);
        }
    }

    public ParseStatus End()
        => _status == ParseStatus.NeedMore ? Fail(_buffer.Count == 0 ? "no SNMP reply" : $"SNMP message cut off after {_buffer.Count} bytes") : _status;

    private ParseStatus Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
        return _status;
    }

    private static SnmpResult Parse(ReadOnlySpan<byte> data)
    {
        var outer = new BerReader(data, "SNMP message");
        var message = new BerReader(outer.Read(Ber.Sequence, "message"), "SNMP message");
        var version = message.ReadInteger("version");
        if (version is < 0 or > 3)
        {
            throw new BerException($"SNMP message: version {version} is not 0 (v1), 1 (v2c) or 3 (v3)");
        }

        if (version == 3)
        {
            throw new BerException("SNMP message is SNMPv3 (USM), not a community-based reply");
        }

        var community = message.ReadString("community", 256);
        var pduTag = message.PeekTag();
        if (pduTag is not (ResponsePdu or ReportPdu))
        {
            throw new BerException($"SNMP message: PDU tag 0x{pduTag:x2} is not a GetResponse (0xa2)");
        }

        var pdu = new BerReader(message.Read(pduTag, "PDU"), "SNMP PDU");
        var requestId = pdu.ReadInteger("request-id");
        var errorStatus = pdu.ReadInteger("error-status");
        var errorIndex = pdu.ReadInteger("error-index");
        var list = new BerReader(pdu.Read(Ber.Sequence, "variable-bindings"), "SNMP variable-bindings");
        var bindings = new List<SnmpVarBind>(8);
        while (list.HasMore && bindings.Count < MaxVarBinds)
        {
            var binding = new BerReader(list.Read(Ber.Sequence, $"binding {bindings.Count}"), $"SNMP binding {bindings.Count}");
            var oid = Ber.DecodeOid(binding.Read(Ber.ObjectIdentifier, "name"));
            var value = binding.Read(out var tag);
            bindings.Add(Decode(oid, tag, value));
        }

        return new SnmpResult((int)version, community, pduTag, requestId, (int)Math.Clamp(errorStatus, int.MinValue, int.MaxValue), (int)Math.Clamp(errorIndex, int.MinValue, int.MaxValue), bindings);
    }

    /// <summary>RFC 2578 §7.1 application types and RFC 3416 §3 exceptions.</summary>
    private static SnmpVarBind Decode(string oid, byte tag, ReadOnlySpan<byte> value)
    {
        switch (tag)
        {
            case Ber.Integer:
                var integer = Ber.DecodeInteger(value);
                return new SnmpVarBind(oid, SnmpValueKind.Integer, integer.ToString(CultureInfo.InvariantCulture), unchecked((ulong)integer));
            case Ber.OctetString:
                return new SnmpVarBind(oid, SnmpValueKind.OctetString, BerText.Decode(value, MaxTextChars), 0);
            case Ber.Null:
                return new SnmpVarBind(oid, SnmpValueKind.Null, string.Empty, 0);
            case Ber.ObjectIdentifier:
                return new SnmpVarBind(oid, SnmpValueKind.ObjectIdentifier, Ber.DecodeOid(value), 0);
            case 0x40 when value.Length == 4:
                return new SnmpVarBind(oid, SnmpValueKind.IpAddress, new System.Net.IPAddress(value).ToString(), 0);
            case 0x41 or 0x42 or 0x43 or 0x46:
                var number = Ber.DecodeUnsigned(value);
                var kind = tag switch { 0x41 => SnmpValueKind.Counter32, 0x42 => SnmpValueKind.Gauge32, 0x43 => SnmpValueKind.TimeTicks, _ => SnmpValueKind.Counter64 };
                return new SnmpVarBind(oid, kind, number.ToString(CultureInfo.InvariantCulture), number);
            case 0x44:
                return new SnmpVarBind(oid, SnmpValueKind.Opaque, Convert.ToHexStringLower(value[..Math.Min(value.Length, 256)]), 0);
            case 0x80:
                return new SnmpVarBind(oid, SnmpValueKind.NoSuchObject, string.Empty, 0);
            case 0x81:
                return new SnmpVarBind(oid, SnmpValueKind.NoSuchInstance, string.Empty, 0);
            case 0x82:
                return new SnmpVarBind(oid, SnmpValueKind.EndOfMibView, string.Empty, 0);
            default:
                return new SnmpVarBind(oid, SnmpValueKind.Other, Convert.ToHexStringLower(value[..Math.Min(value.Length, 256)]), tag);
        }
    }
}
