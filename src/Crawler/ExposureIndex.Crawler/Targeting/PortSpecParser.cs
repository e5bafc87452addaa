namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// Parses nmap's <c>-p</c> syntax (nmap reference guide, "Port Specification and Scan Order"):
/// comma-separated ports and ranges; <c>-1024</c> means 1-1024, <c>60000-</c> means 60000-65535 and <c>-</c>
/// alone means 1-65535; <c>T:</c> and <c>U:</c> qualify the following entries until the next qualifier.
/// Unqualified entries are TCP, because a connect scan is the only scan type here.
/// Deliberate differences from nmap: port 0 is refused (it cannot be connected to), and service names,
/// <c>*</c> wildcards, <c>[...]</c> registered-port brackets, SCTP (<c>S:</c>) and IP protocols (<c>P:</c>) are
/// reported as unsupported rather than guessed at. Our own named TCP sets <c>top100</c> and <c>top1000</c>
/// (<see cref="NamedPortSets"/>) may stand wherever a TCP port may, e.g. <c>top100,8081,U:53</c>.
/// </summary>
internal static class PortSpecParser
{
    public const int MinPort = 1;
    public const int MaxPort = 65535;

    /// <summary>Parses <paramref name="text"/>; returns null and adds to <paramref name="errors"/> on any error.</summary>
    public static PortSpec? Parse(string? text, string source, ICollection<SpecError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add(new SpecError(source, 0, 1, text ?? string.Empty, "no ports given"));
            return null;
        }

        var tcp = new List<PortRange>();
        var udp = new List<PortRange>();
        var current = tcp;
        var offset = 0;
        // Bounded: each pass consumes one comma-separated item of a finite string.
        while (offset <= text.Length)
        {
            var comma = text.IndexOf(',', offset);
            var end = comma < 0 ? text.Length : comma;
            ParseItem(text, offset, end, source, errors, ref current, tcp, udp);
            if (comma < 0)
            {
                break;
            }

            offset = comma + 1;
        }

        if (errors.Count != before)
        {
            return null;
        }

        return new PortSpec(PortSet.From(tcp), PortSet.From(udp));
    }

    private static void ParseItem(string text, int start, int end, string source, ICollection<SpecError> errors,
        ref List<PortRange> current, List<PortRange> tcp, List<PortRange> udp)
    {
        // Surrounding blanks are tolerated ("22, 80"); positions still point into the original text.
        while (start < end && char.IsWhiteSpace(text[start]))
        {
            start++;
        }

        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }

        if (start == end)
        {
            errors.Add(new SpecError(source, 0, start + 1, string.Empty, "empty port entry (two commas in a row, or a leading or trailing comma)"));
            return;
        }

        var item = text[start..end];
        if (item.Length >= 2 && item[1] == ':' && char.IsAsciiLetter(item[0]))
        {
            var qualifier = item[..2];
            switch (char.ToUpperInvariant(item[0]))
            {
                case 'T':
                    current = tcp;
                    break;
                case 'U':
                    current = udp;
                    break;
                case 'S':
                    errors.Add(new SpecError(source, 0, start + 1, item, "SCTP ports (S:) are not supported; use T: or U:"));
                    return;
                case 'P':
                    errors.Add(new SpecError(source, 0, start + 1, item, "IP protocol numbers (P:) are not supported; use T: or U:"));
                    return;
                default:
                    errors.Add(new SpecError(source, 0, start + 1, qualifier, "unknown protocol qualifier; use T: for TCP or U: for UDP"));
                    return;
            }

            start += 2;
            if (start == end)
            {
                errors.Add(new SpecError(source, 0, start - 1, qualifier, "protocol qualifier is not followed by a port"));
                return;
            }
        }

        var word = text[start..end];
        if (word.Length > 0 && char.IsAsciiLetter(word[0]) && NamedPortSets.TryGet(word, out var named))
        {
            if (!ReferenceEquals(current, tcp))
            {
                errors.Add(new SpecError(source, 0, start + 1, word, "named port sets are TCP lists; give UDP ports by number"));
                return;
            }

            current.AddRange(named.Ranges);
            return;
        }

        if (TryParseRange(text, start, end, source, errors, out var range))
        {
            current.Add(range);
        }
    }

    private static bool TryParseRange(string text, int start, int end, string source, ICollection<SpecError> errors, out PortRange range)
    {
        range = default;
        var token = text[start..end];
        if (token.Contains('*', StringComparison.Ordinal) || token.StartsWith('['))
        {
            errors.Add(new SpecError(source, 0, start + 1, token, "wildcards and [registered-port] brackets are not supported; give port numbers"));
            return false;
        }

        var dash = token.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            if (!TryParsePort(text, start, end, source, errors, out var port))
            {
                return false;
            }

            range = new PortRange(port, port);
            return true;
        }

        // nmap: an omitted start means 1 and an omitted end means 65535.
        var first = MinPort;
        var last = MaxPort;
        var ok = true;
        if (dash > 0)
        {
            ok &= TryParsePort(text, start, start + dash, source, errors, out first);
        }

        if (start + dash + 1 < end)
        {
            ok &= TryParsePort(text, start + dash + 1, end, source, errors, out last);
        }

        if (!ok)
        {
            return false;
        }

        if (first > last)
        {
            errors.Add(new SpecError(source, 0, start + 1, token, $"port range is backwards ({first} > {last})"));
            return false;
        }

        range = new PortRange(first, last);
        return true;
    }

    private static bool TryParsePort(string text, int start, int end, string source, ICollection<SpecError> errors, out int port)
    {
        port = 0;
        var token = text[start..end];
        foreach (var c in token)
        {
            if (!char.IsAsciiDigit(c))
            {
                var message = token.Any(char.IsAsciiLetter)
                    ? "service names are not supported; give port numbers or a named set (top100, top1000)"
                    : "not a port number";
                errors.Add(new SpecError(source, 0, start + 1, token, message));
                return false;
            }
        }

        // More than five digits cannot be a port; checking length first keeps the arithmetic from overflowing.
        var value = token.Length > 5 ? int.MaxValue : int.Parse(token, System.Globalization.CultureInfo.InvariantCulture);
        if (value is < MinPort or > MaxPort)
        {
            var message = value == 0
                ? "port 0 cannot be scanned (ports are 1-65535)"
                : "port is out of range (ports are 1-65535)";
            errors.Add(new SpecError(source, 0, start + 1, token, message));
            return false;
        }

        port = value;
        return true;
    }
}
