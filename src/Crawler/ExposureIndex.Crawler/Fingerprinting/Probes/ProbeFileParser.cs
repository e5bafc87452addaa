using System.Globalization;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Fingerprinting.Probes;

/// <summary>One parsed probe file: its probes in file order, its Exclude ports and what it could not read.</summary>
internal sealed record ProbeFile(string Name, IReadOnlyList<ServiceProbe> Probes, PortSpec Excluded, IReadOnlyList<ProbeDiagnostic> Diagnostics);

/// <summary>
/// Reads the service-probe DSL, line by line (the syntax of nmap's nmap-service-probes):
/// <code>
/// Exclude T:9100-9107
/// Probe TCP GetRequest q|GET / HTTP/1.0\r\n\r\n|
/// rarity 1
/// ports 80,8000-8010
/// sslports 443
/// totalwaitms 5000
/// tcpwrappedms 3000
/// fallback GetRequest
/// match http m|^HTTP/1\.[01] \d\d\d .*\r\nServer: nginx/([\d.]+)|s p/nginx/ v/$1/ cpe:/a:igor_sysoev:nginx:$1/
/// softmatch http m|^HTTP/1\.[01] \d\d\d|
/// </code>
/// A bad line is reported with the file name and line number and skipped; everything else still loads.
/// </summary>
internal static class ProbeFileParser
{
    public static readonly TimeSpan DefaultMatchTimeout = TimeSpan.FromMilliseconds(250);

    public static ProbeFile Parse(string text, string fileName, TimeSpan? matchTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var timeout = matchTimeout ?? DefaultMatchTimeout;
        var probes = new List<ServiceProbe>();
        var diagnostics = new List<ProbeDiagnostic>();
        var excludedTcp = new List<PortRange>();
        var excludedUdp = new List<PortRange>();
        ServiceProbe? current = null;
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r', ' ', '\t');
            var trimmed = line.TrimStart(' ', '\t');
            if (trimmed.Length == 0 || trimmed[0] == '#')
            {
                continue;
            }

            var space = trimmed.IndexOfAny([' ', '\t']);
            var directive = space < 0 ? trimmed : trimmed[..space];
            var argument = space < 0 ? string.Empty : trimmed[(space + 1)..].TrimStart(' ', '\t');
            void Report(string message) => diagnostics.Add(new ProbeDiagnostic(fileName, lineNumber, message));

            if (directive == "Probe")
            {
                current = ParseProbe(argument, fileName, lineNumber, Report);
                if (current is not null)
                {
                    probes.Add(current);
                }

                continue;
            }

            if (directive == "Exclude")
            {
                var errors = new List<SpecError>();
                var spec = PortSpecParser.Parse(argument, "Exclude", errors);
                if (spec is null || errors.Count > 0)
                {
                    Report($"Exclude: {string.Join("; ", errors)}");
                }
                else
                {
                    excludedTcp.AddRange(spec.Tcp.Ranges);
                    excludedUdp.AddRange(spec.Udp.Ranges);
                }

                continue;
            }

            if (directive is not ("match" or "softmatch" or "ports" or "sslports" or "rarity" or "fallback" or "totalwaitms" or "tcpwrappedms"))
            {
                Report($"unknown directive '{directive}'");
                continue;
            }

            if (current is null)
            {
                Report($"'{directive}' before any Probe line (or after a Probe line that could not be read)");
                continue;
            }

            switch (directive)
            {
                case "match" or "softmatch":
                    if (TryParseMatch(argument, directive == "softmatch", fileName, lineNumber, timeout, out var match, out var error))
                    {
                        current.Matches.Add(match);
                    }
                    else
                    {
                        Report($"{directive}: {error}");
                    }

                    break;
                case "ports" or "sslports":
                    if (TryParsePorts(argument, out var ports, out var portError))
                    {
                        if (directive == "ports")
                        {
                            current.Ports = PortSet.From(current.Ports.Ranges.Concat(ports.Ranges));
                        }
                        else
                        {
                            current.SslPorts = PortSet.From(current.SslPorts.Ranges.Concat(ports.Ranges));
                        }
                    }
                    else
                    {
                        Report($"{directive}: {portError}");
                    }

                    break;
                case "rarity":
                    if (int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out var rarity) && rarity is >= 1 and <= 9)
                    {
                        current.Rarity = rarity;
                    }
                    else
                    {
                        Report($"rarity must be 1-9, got '{argument}'");
                    }

                    break;
                case "fallback":
                    foreach (var name in argument.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        current.FallbackNames.Add(name);
                    }

                    break;
                case "totalwaitms" or "tcpwrappedms":
                    if (int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms is > 0 and <= 600_000)
                    {
                        if (directive == "totalwaitms")
                        {
                            current.TotalWait = TimeSpan.FromMilliseconds(ms);
                        }
                        else
                        {
                            current.TcpWrappedWait = TimeSpan.FromMilliseconds(ms);
                        }
                    }
                    else
                    {
                        Report($"{directive} must be 1-600000 milliseconds, got '{argument}'");
                    }

                    break;
            }
        }

        return new ProbeFile(fileName, probes, new PortSpec(PortSet.From(excludedTcp), PortSet.From(excludedUdp)), diagnostics);
    }

    private static ServiceProbe? ParseProbe(string argument, string file, int line, Action<string> report)
    {
        // Probe <TCP|UDP> <name> q<d>payload<d> [no-payload]
        var parts = argument.Split([' ', '\t'], 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3)
        {
            report("Probe needs a protocol, a name and a q|...| string");
            return null;
        }

        ProbeProtocol protocol;
        if (parts[0] == "TCP")
        {
            protocol = ProbeProtocol.Tcp;
        }
        else if (parts[0] == "UDP")
        {
            protocol = ProbeProtocol.Udp;
        }
        else
        {
            report($"Probe protocol must be TCP or UDP, got '{parts[0]}'");
            return null;
        }

        var rest = parts[2];
        if (rest.Length < 3 || rest[0] != 'q')
        {
            report("Probe string must look like q|...|");
            return null;
        }

        var delimiter = rest[1];
        var end = rest.IndexOf(delimiter, 2);
        if (end < 0)
        {
            report($"Probe string is not closed with '{delimiter}'");
            return null;
        }

        if (!ProbeEscapes.TryDecode(rest[2..end], out var payload, out var error))
        {
            report($"Probe string: {error}");
            return null;
        }

        var trailer = rest[(end + 1)..].Trim();
        if (trailer.Length > 0 && trailer != "no-payload")
        {
            report($"unexpected text after the probe string: '{trailer}'");
        }

        return new ServiceProbe(protocol, parts[1], payload, file, line);
    }

    private static bool TryParsePorts(string argument, out PortSet ports, out string? error)
    {
        var ranges = new List<PortRange>();
        error = null;
        foreach (var item in argument.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = item.IndexOf('-', StringComparison.Ordinal);
            var firstText = dash < 0 ? item : item[..dash];
            var lastText = dash < 0 ? item : item[(dash + 1)..];
            if (!int.TryParse(firstText, NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                || !int.TryParse(lastText, NumberStyles.None, CultureInfo.InvariantCulture, out var last)
                || first is < 1 or > 65535 || last is < 1 or > 65535 || last < first)
            {
                error = $"'{item}' is not a port or a port range (1-65535)";
                ports = PortSet.Empty;
                return false;
            }

            ranges.Add(new PortRange(first, last));
        }

        ports = PortSet.From(ranges);
        return true;
    }

    /// <summary>Parses "service m&lt;d&gt;regex&lt;d&gt;[is] p/../ v/../ i/../ h/../ o/../ d/../ cpe:/../[a]".</summary>
    internal static bool TryParseMatch(string argument, bool soft, string file, int line, TimeSpan timeout, out ServiceMatch match, out string? error)
    {
        match = null!;
        error = null;
        var space = argument.IndexOfAny([' ', '\t']);
        if (space <= 0)
        {
            error = "needs a service name and a pattern";
            return false;
        }

        var service = argument[..space];
        var rest = argument[(space + 1)..].TrimStart(' ', '\t');
        if (rest.Length < 3 || rest[0] != 'm')
        {
            error = "the pattern must look like m|regex|";
            return false;
        }

        var delimiter = rest[1];
        var end = rest.IndexOf(delimiter, 2);
        if (end < 0)
        {
            error = $"the pattern is not closed with '{delimiter}'";
            return false;
        }

        var pattern = rest[2..end];
        var i = end + 1;
        var ignoreCase = false;
        var dotAll = false;
        for (; i < rest.Length && rest[i] is not (' ' or '\t'); i++)
        {
            switch (rest[i])
            {
                case 'i': ignoreCase = true; break;
                case 's': dotAll = true; break;
                default:
                    error = $"unknown pattern option '{rest[i]}' (only i and s exist)";
                    return false;
            }
        }

        string? product = null, version = null, info = null, hostname = null, os = null, device = null;
        var cpes = new List<string>();
        // Bounded: each pass consumes one field or fails.
        while (i < rest.Length)
        {
            while (i < rest.Length && rest[i] is ' ' or '\t')
            {
                i++;
            }

            if (i >= rest.Length)
            {
                break;
            }

            string key;
            if (rest.AsSpan(i).StartsWith("cpe:"))
            {
                key = "cpe";
                i += 4;
            }
            else
            {
                key = rest[i].ToString();
                i++;
            }

            if (i >= rest.Length)
            {
                error = $"field '{key}' has no value";
                return false;
            }

            var d = rest[i];
            var close = rest.IndexOf(d, i + 1);
            if (close < 0)
            {
                error = $"field '{key}' is not closed with '{d}'";
                return false;
            }

            var value = rest[(i + 1)..close];
            i = close + 1;
            switch (key)
            {
                case "p": product = value; break;
                case "v": version = value; break;
                case "i": info = value; break;
                case "h": hostname = value; break;
                case "o": os = value; break;
                case "d": device = value; break;
                case "cpe":
                    cpes.Add(value);
                    // cpe:/.../a: the optional 'a' flag (the CPE may be auto-generated); nothing to do with it.
                    if (i < rest.Length && rest[i] == 'a')
                    {
                        i++;
                    }

                    break;
                default:
                    error = $"unknown version field '{key}'";
                    return false;
            }

            if (i < rest.Length && rest[i] is not (' ' or '\t'))
            {
                error = $"unexpected '{rest[i]}' after field '{key}'";
                return false;
            }
        }

        var template = new VersionTemplate { Product = product, Version = version, Info = info, Hostname = hostname, Os = os, DeviceType = device, Cpes = cpes };
        if (template.Validate() is { } templateError)
        {
            error = templateError;
            return false;
        }

        match = new ServiceMatch(service, soft, pattern, ignoreCase, dotAll, template, file, line, timeout);
        return true;
    }
}
