using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Snmp;

/// <summary>
/// SNMP over UDP: one SNMPv2c GetRequest (RFC 3416 §4.2.1) for the system group (RFC 3418) plus Net-SNMP's
/// versionTag, with the community "public". "public" is the protocol's well-known default read community, the
/// one Shodan asks with; it is the only one we ever send - we never try others. A GetRequest reads, it changes
/// nothing. An agent that does not know the community stays silent (RFC 3584 §4), which is "no answer".
/// </summary>
internal sealed class SnmpGrabber : IGrabber
{
    public const string Community = "public";

    public const string SysDescr = "1.3.6.1.2.1.1.1.0";
    public const string SysObjectId = "1.3.6.1.2.1.1.2.0";
    public const string SysUpTime = "1.3.6.1.2.1.1.3.0";
    public const string SysContact = "1.3.6.1.2.1.1.4.0";
    public const string SysName = "1.3.6.1.2.1.1.5.0";
    public const string SysLocation = "1.3.6.1.2.1.1.6.0";

    /// <summary>UCD-SNMP-MIB::versionTag.0: Net-SNMP's own version, when its view allows reading it.</summary>
    public const string VersionTag = "1.3.6.1.4.1.2021.100.2.0";

    public static readonly IReadOnlyList<string> RequestedOids = [SysDescr, SysObjectId, SysUpTime, SysContact, SysName, SysLocation, VersionTag];

    public string Name => "snmp";

    public Transport Transport => Transport.Udp;

    public IReadOnlyList<string> Services { get; } = ["snmp"];

    public IReadOnlyList<int> Ports { get; } = [161];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var record = new ServiceRecord { Module = Name, Snmp = new SnmpSection() };
        return GrabGuard.RunAsync(context, "the SNMP grab", record, async deadline =>
        {
            var requestId = RandomNumberGenerator.GetInt32(1, int.MaxValue);
            var replies = await context.Network.ExchangeUdpAsync(context.Target, BuildGet(requestId, Community, RequestedOids), context.Limits, deadline).ConfigureAwait(false);
            if (replies.Count == 0)
            {
                return GrabResult.Failed(GrabOutcome.IoTimeout, $"no SNMP reply to a v2c GetRequest with community '{Community}' within the read timeout", record);
            }

            var parser = new SnmpParser();
            var status = parser.Feed(replies[0]);
            if (status == ParseStatus.NeedMore)
            {
                status = parser.End();
            }

            if (status != ParseStatus.Complete || parser.Result is not { } result)
            {
                record.Data = ByteString.CopyFrom(replies[0]);
                return GrabResult.Failed(GrabOutcome.ProtocolError, parser.Error ?? "unreadable SNMP reply", record);
            }

            if (result.RequestId != requestId)
            {
                record.Data = ByteString.CopyFrom(replies[0]);
                return GrabResult.Failed(GrabOutcome.ProtocolError, $"SNMP reply request-id {result.RequestId} does not match ours ({requestId})", record);
            }

            Describe(record, result);
            return GrabResult.Success(record);
        }, cancellationToken);
    }

    internal static void Describe(ServiceRecord record, SnmpResult result)
    {
        var section = record.Snmp ??= new SnmpSection();
        section.Community = result.Community;
        section.ErrorStatus = result.ErrorStatus;
        section.Description = result.Get(SysDescr)?.Text ?? string.Empty;
        section.Objectid = result.Get(SysObjectId)?.Text ?? string.Empty;
        section.Uptime = result.Get(SysUpTime)?.Number ?? 0;
        section.Contact = result.Get(SysContact)?.Text ?? string.Empty;
        section.Name = result.Get(SysName)?.Text ?? string.Empty;
        section.Location = result.Get(SysLocation)?.Text ?? string.Empty;
        section.AgentVersion = result.Get(VersionTag)?.Text ?? string.Empty;
        if (SnmpProducts.TryIdentify(section, out var product))
        {
            product.ApplyTo(record);
        }

        if (SnmpProducts.OsFromDescription(section.Description) is { } os)
        {
            record.Os = os;
        }

        var data = new StringBuilder("SNMP:\n");
        data.Append("  Versions:\n    2c\n");
        Line(data, "Description", section.Description);
        Line(data, "Object ID", section.Objectid);
        if (result.Get(SysUpTime) is not null)
        {
            Line(data, "Uptime", section.Uptime.ToString(CultureInfo.InvariantCulture));
        }

        Line(data, "Contact", section.Contact);
        Line(data, "Name", section.Name);
        Line(data, "Location", section.Location);
        Line(data, "Agent version", section.AgentVersion);
        record.Data = ByteString.CopyFromUtf8(data.ToString());
    }

    /// <summary>
    /// Message ::= SEQUENCE { version INTEGER (1 = v2c), community OCTET STRING, GetRequest-PDU [0] { request-id,
    /// error-status 0, error-index 0, variable-bindings SEQUENCE OF SEQUENCE { name OID, value NULL } } }.
    /// </summary>
    internal static byte[] BuildGet(int requestId, string community, IEnumerable<string> oids)
    {
        var bindings = oids.Select(oid => Ber.Encode(Ber.Sequence, Ber.EncodeOid(oid), [Ber.Null, 0x00])).ToArray();
        var pdu = Ber.Encode(0xA0, Ber.EncodeInteger(requestId), Ber.EncodeInteger(0), Ber.EncodeInteger(0), Ber.Encode(Ber.Sequence, bindings));
        return Ber.Encode(Ber.Sequence, Ber.EncodeInteger(1), Ber.EncodeOctetString(community), pdu);
    }

    private static void Line(StringBuilder data, string label, string value)
    {
        if (value.Length > 0)
        {
            data.Append("  ").Append(label).Append(": ").Append(value).Append('\n');
        }
    }
}

/// <summary>Agent products from the enterprise arc of sysObjectID (IANA Private Enterprise Numbers).</summary>
internal static class SnmpProducts
{
    public static bool TryIdentify(SnmpSection section, out ProductMatch product)
    {
        product = null!;
        var oid = section.Objectid;
        if (Under(oid, "1.3.6.1.4.1.8072") || Under(oid, "1.3.6.1.4.1.2021"))
        {
            // 8072 is Net-SNMP, 2021 its UCD-SNMP ancestry; versionTag carries the agent's version when readable.
            var version = section.AgentVersion.Length > 0 && char.IsAsciiDigit(section.AgentVersion[0]) ? section.AgentVersion.Trim() : null;
            product = new ProductMatch("Net-SNMP", version, null, null, Cpe.Application("net-snmp", "net-snmp", version));
            return true;
        }

        if (Under(oid, "1.3.6.1.4.1.311"))
        {
            product = new ProductMatch("Microsoft Windows SNMP", null, null, null, Cpe.Application("microsoft", "windows", null));
            return true;
        }

        if (Under(oid, "1.3.6.1.4.1.9"))
        {
            product = new ProductMatch("Cisco SNMP service", null, null, null, Cpe.Application("cisco", "ios", null));
            return true;
        }

        return false;
    }

    /// <summary>The OS family that sysDescr conventionally starts with, or null.</summary>
    public static string? OsFromDescription(string description)
    {
        if (description.StartsWith("Linux ", StringComparison.Ordinal))
        {
            return "Linux";
        }

        if (description.Contains("Windows", StringComparison.Ordinal))
        {
            return "Windows";
        }

        if (description.StartsWith("FreeBSD ", StringComparison.Ordinal))
        {
            return "FreeBSD";
        }

        return description.Contains("Cisco IOS", StringComparison.Ordinal) ? "IOS" : null;
    }

    private static bool Under(string oid, string prefix) => oid == prefix || oid.StartsWith(prefix + ".", StringComparison.Ordinal);
}
