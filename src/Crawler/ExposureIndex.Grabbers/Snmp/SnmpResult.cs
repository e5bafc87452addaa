using System.Globalization;

namespace ExposureIndex.Grabbers.Snmp;

/// <summary>The SMIv2 value kinds a GetResponse can carry (RFC 3416 §3, RFC 2578 §7.1).</summary>
internal enum SnmpValueKind
{
    Integer,
    OctetString,
    Null,
    ObjectIdentifier,
    IpAddress,
    Counter32,
    Gauge32,
    TimeTicks,
    Opaque,
    Counter64,
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
    Other,
}

/// <summary>One variable binding: the OID and its value as text (numbers in decimal, OIDs dotted).</summary>
internal sealed record SnmpVarBind(string Oid, SnmpValueKind Kind, string Text, ulong Number)
{
    /// <summary>False for the exceptions noSuchObject, noSuchInstance and endOfMibView (RFC 3416 §4.2.1).</summary>
    public bool HasValue => Kind is not (SnmpValueKind.NoSuchObject or SnmpValueKind.NoSuchInstance or SnmpValueKind.EndOfMibView or SnmpValueKind.Null);

    public string Canonical() => string.Create(CultureInfo.InvariantCulture, $"{Oid}={Kind}:{Text}:{Number}");
}

/// <summary>An SNMP message carrying a response PDU (RFC 3416 §3; message wrapper RFC 1901 / RFC 3584 §2.1).</summary>
internal sealed record SnmpResult(int Version, string Community, int PduTag, long RequestId, int ErrorStatus, int ErrorIndex, IReadOnlyList<SnmpVarBind> VarBinds)
{
    /// <summary>The value bound to <paramref name="oid"/> when the agent gave one.</summary>
    public SnmpVarBind? Get(string oid) => VarBinds.FirstOrDefault(v => v.Oid == oid && v.HasValue);

    public string Canonical() => string.Create(CultureInfo.InvariantCulture, $"{Version}|{Community}|{PduTag}|{RequestId}|{ErrorStatus}|{ErrorIndex}|{string.Join(';', VarBinds.Select(v => v.Canonical()))}");
}
