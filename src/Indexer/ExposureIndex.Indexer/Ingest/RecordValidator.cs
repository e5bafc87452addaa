using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Indexer.Ingest;

/// <summary>Limits on what one record may carry. Oversized fields are rejected, never truncated silently.</summary>
public sealed record RecordLimits
{
    public int MaxDataBytes { get; init; } = 512 * 1024;

    public int MaxRecordBytes { get; init; } = 4 * 1024 * 1024;

    public int MaxShortField { get; init; } = 1024;

    public int MaxListItems { get; init; } = 256;

    public int MaxHostnameLength { get; init; } = 253;

    /// <summary>How far in the future a timestamp may be (clock skew between crawler and indexer).</summary>
    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromDays(1);
}

/// <summary>
/// Checks one record and says precisely what is wrong with it. A bad record is rejected on its own with a
/// reason in the acknowledgement; it never fails the batch or the stream. Valid records are canonicalized
/// (IP text form) in place.
/// </summary>
public sealed class RecordValidator(RecordLimits limits, TimeProvider time)
{
    private static readonly DateTime Earliest = new(1990, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public RecordValidator()
        : this(new RecordLimits(), TimeProvider.System)
    {
    }

    public RecordLimits Limits { get; } = limits;

    /// <summary>Returns null when the record is valid (and canonicalizes it), else the rejection.</summary>
    public Rejection? Validate(ServiceRecord record, uint index)
    {
        ArgumentNullException.ThrowIfNull(record);
        Rejection Reject(RejectionCode code, string field, string reason) => new() { Index = index, Code = code, Field = field, Reason = reason };

        var size = record.CalculateSize();
        if (size > Limits.MaxRecordBytes)
        {
            return Reject(RejectionCode.RecordTooLarge, "record", $"record is {size} bytes; the limit is {Limits.MaxRecordBytes}");
        }

        if (string.IsNullOrEmpty(record.Ip))
        {
            return Reject(RejectionCode.InvalidIp, "ip", "ip is empty");
        }

        // The usual record carries a strict dotted quad, which is already canonical: no parse into an IPAddress.
        // Any other IPv4 text is refused: IPAddress.TryParse also accepts "1", "1.2" and "010.1.1.1" (inet_aton
        // forms), and records must spell addresses out. So what is left must be IPv6, with a colon.
        IPAddress? address = null;
        if (!IpText.TryParseDottedQuad(record.Ip, out _)
            && (record.Ip.Length > 64 || !record.Ip.Contains(':', StringComparison.Ordinal) || !IPAddress.TryParse(record.Ip, out address) || address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)))
        {
            return Reject(RejectionCode.InvalidIp, "ip", $"ip '{Printable(record.Ip)}' is not an IPv4 or IPv6 address");
        }

        if (record.Port is 0 or > 65535)
        {
            return Reject(RejectionCode.InvalidPort, "port", $"port {record.Port} is outside 1-65535");
        }

        if (record.Transport is not (Transport.Tcp or Transport.Udp))
        {
            return Reject(RejectionCode.InvalidTransport, "transport", $"transport {(int)record.Transport} is not tcp (1) or udp (2)");
        }

        if (record.Timestamp is null)
        {
            return Reject(RejectionCode.MissingTimestamp, "timestamp", "timestamp is missing");
        }

        if (record.Timestamp.Nanos is < 0 or > 999_999_999)
        {
            return Reject(RejectionCode.InvalidField, "timestamp", $"timestamp nanos {record.Timestamp.Nanos} are out of range");
        }

        var when = record.Timestamp.Seconds is < -62135596800 or > 253402300799 ? DateTime.MinValue : record.Timestamp.ToDateTime();
        if (when < Earliest || when > time.GetUtcNow().UtcDateTime + Limits.MaxFutureSkew)
        {
            return Reject(RejectionCode.InvalidField, "timestamp", $"timestamp {record.Timestamp} is not between 1990 and now (+{Limits.MaxFutureSkew.TotalHours:F0}h)");
        }

        if (record.Data.Length > Limits.MaxDataBytes)
        {
            return Reject(RejectionCode.FieldTooLarge, "data", $"data is {record.Data.Length} bytes; the limit is {Limits.MaxDataBytes}");
        }

        var tooLong = FirstTooLong(record);
        if (tooLong is { } field)
        {
            return Reject(RejectionCode.FieldTooLarge, field.Name, field.Reason);
        }

        for (var i = 0; i < record.Cpe23.Count; i++)
        {
            if (!record.Cpe23[i].StartsWith("cpe:2.3:", StringComparison.Ordinal))
            {
                return Reject(RejectionCode.InvalidField, $"cpe23[{i}]", $"cpe23[{i}] '{Printable(record.Cpe23[i])}' is not a CPE 2.3 formatted string (cpe:2.3:...)");
            }
        }

        if (address is null)
        {
            return null;
        }

        // Canonical text form, so that "::ffff:1.2.3.4" and "1.2.3.4" are one host.
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
        {
            address.ScopeId = 0;
        }

        // Compare in a stack buffer: the usual record is already canonical and needs no new string.
        Span<char> canonical = stackalloc char[64];
        if (!address.TryFormat(canonical, out var written) || !canonical[..written].SequenceEqual(record.Ip))
        {
            record.Ip = address.ToString();
        }

        return null;
    }

    private static string Printable(string text)
    {
        var cut = text.Length > 80 ? text[..80] + "..." : text;
        return string.Concat(cut.Select(c => char.IsControl(c) ? '?' : c));
    }

    // Checked field by field without iterators: this runs for every record on the ingest hot path.
    private (string Name, string Reason)? FirstTooLong(ServiceRecord r)
    {
        var max = Limits.MaxShortField;
        if (r.Product.Length > max || r.Version.Length > max || r.Module.Length > max || r.Info.Length > max || r.Os.Length > max
            || r.DeviceType.Length > max || r.Error.Length > max || r.Scanner.Length > max || r.ScanId.Length > max
            || r.Asn.Length > max || r.Org.Length > max || r.Isp.Length > max
            || (r.Http is { } h && (h.Title.Length > max || h.Server.Length > max)))
        {
            (string, string)[] fields =
            [
                ("product", r.Product), ("version", r.Version), ("module", r.Module), ("info", r.Info), ("os", r.Os),
                ("device_type", r.DeviceType), ("error", r.Error), ("scanner", r.Scanner), ("scan_id", r.ScanId),
                ("asn", r.Asn), ("org", r.Org), ("isp", r.Isp), ("http.title", r.Http?.Title ?? string.Empty), ("http.server", r.Http?.Server ?? string.Empty),
            ];
            var (name, value) = fields.First(f => f.Item2.Length > max);
            return (name, $"{name} is {value.Length} characters; the limit is {max}");
        }

        return CheckList("hostnames", r.Hostnames, Limits.MaxHostnameLength)
            ?? CheckList("domains", r.Domains, Limits.MaxHostnameLength)
            ?? CheckList("tags", r.Tags, 128)
            ?? CheckList("cpe23", r.Cpe23, max);
    }

    private (string Name, string Reason)? CheckList(string name, IReadOnlyList<string> list, int itemLimit)
    {
        if (list.Count > Limits.MaxListItems)
        {
            return (name, $"{name} has {list.Count} entries; the limit is {Limits.MaxListItems}");
        }

        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].Length > itemLimit)
            {
                return ($"{name}[{i}]", $"{name}[{i}] is {list[i].Length} characters; the limit is {itemLimit}");
            }
        }

        return null;
    }
}
