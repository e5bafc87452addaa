using System.Globalization;
using System.Net;
using ExposureIndex.Storage;

namespace ExposureIndex.Cli.Hosting;

/// <summary>What `exposure serve` (and `demo`) run: the Indexer's gRPC port and the SearchApi's HTTP port over one store.</summary>
internal sealed record ServeOptions
{
    public required string DataDirectory { get; init; }

    public required StoreLocation Store { get; init; }

    public required IPEndPoint Http { get; init; }

    public required IPEndPoint Grpc { get; init; }

    public required IReadOnlyList<string> ApiKeys { get; init; }

    public string? GeoIpDatabase { get; init; }

    public string? AsnDatabase { get; init; }

    /// <summary>Reverse DNS for hostnames/domains: off unless asked (it sends queries to a resolver).</summary>
    public bool ReverseDns { get; init; }

    /// <summary>The resolver for reverse DNS (default: /etc/resolv.conf's first nameserver).</summary>
    public IPEndPoint? Resolver { get; init; }

    public bool Quiet { get; init; }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Http.Port != 0 && Http.Port == Grpc.Port && Http.Address.Equals(Grpc.Address))
        {
            errors.Add($"--http and --grpc must differ (both are {Http}); gRPC needs its own HTTP/2-only port");
        }

        foreach (var (name, path) in new[] { ("--geoip", GeoIpDatabase), ("--asn", AsnDatabase) })
        {
            if (path is not null && !File.Exists(path))
            {
                errors.Add($"{name} {path}: no such file");
            }
        }

        return errors;
    }
}

/// <summary>Parses ADDR:PORT, [V6]:PORT, :PORT or PORT (loopback by default: the API is not exposed unless asked).</summary>
internal static class EndpointText
{
    public static bool TryParse(string text, out IPEndPoint endpoint, out string error)
    {
        endpoint = new IPEndPoint(IPAddress.Loopback, 0);
        error = string.Empty;
        text = text.Trim();
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bare))
        {
            text = ":" + bare.ToString(CultureInfo.InvariantCulture);
        }

        if (text.StartsWith(':'))
        {
            text = "127.0.0.1" + text;
        }

        if (!IPEndPoint.TryParse(text, out var parsed) || parsed.Port is < 0 or > 65535 || !text.Contains(':', StringComparison.Ordinal) || (parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !text.Contains(']', StringComparison.Ordinal)))
        {
            error = $"'{text}' is not ADDR:PORT (e.g. 127.0.0.1:8780 or [::1]:8780)";
            return false;
        }

        endpoint = parsed;
        return true;
    }
}
