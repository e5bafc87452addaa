using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Contracts;

/// <summary>
/// The identity of a service: <c>ip:port/transport</c>, the unit of record (one document per service).
/// The text form is stable on disk and on the wire: IPv6 addresses are bracketed, e.g. <c>[2001:db8::1]:443/tcp</c>.
/// </summary>
public readonly record struct ServiceKey(IPAddress Address, int Port, Transport Transport)
{
    /// <summary>Canonical text: <c>1.2.3.4:80/tcp</c> or <c>[::1]:53/udp</c>.</summary>
    public override string ToString()
    {
        var ip = Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString();
        return string.Create(CultureInfo.InvariantCulture, $"{ip}:{Port}/{TransportNames.ToText(Transport)}");
    }

    /// <summary>Builds the key of a record whose fields are already valid.</summary>
    public static ServiceKey From(ServiceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new ServiceKey(IPAddress.Parse(record.Ip), (int)record.Port, record.Transport);
    }

    /// <summary>Parses the canonical text form; an expected miss, so no exception.</summary>
    public static bool TryParse(string? text, out ServiceKey key)
    {
        key = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var slash = text.LastIndexOf('/');
        var colon = slash < 0 ? -1 : text.LastIndexOf(':', slash);
        if (slash < 0 || colon <= 0)
        {
            return false;
        }

        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        if (!IPAddress.TryParse(host, out var ip)
            || !int.TryParse(text.AsSpan(colon + 1, slash - colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535
            || !TransportNames.TryParse(text[(slash + 1)..], out var transport))
        {
            return false;
        }

        key = new ServiceKey(ip, port, transport);
        return true;
    }
}

/// <summary>Text names of <see cref="Transport"/> as they appear in JSON, keys and queries.</summary>
public static class TransportNames
{
    public static string ToText(Transport transport) => transport switch
    {
        Transport.Tcp => "tcp",
        Transport.Udp => "udp",
        _ => "unspecified",
    };

    public static bool TryParse(string? text, out Transport transport)
    {
        switch (text?.ToLowerInvariant())
        {
            case "tcp":
                transport = Transport.Tcp;
                return true;
            case "udp":
                transport = Transport.Udp;
                return true;
            default:
                transport = Transport.Unspecified;
                return false;
        }
    }
}
