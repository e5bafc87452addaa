using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ExposureIndex.Crawler.Fingerprinting.Probes;

/// <summary>
/// The version-info fields of a match line (<c>p/ v/ i/ h/ o/ d/ cpe:/</c>), each a template that may use the
/// regex's capture groups: <c>$1</c>..<c>$9</c>, <c>$P(n)</c> (printable characters only),
/// <c>$SUBST(n,"from","to")</c> and <c>$I(n,"&gt;")</c> / <c>$I(n,"&lt;")</c> (the group's bytes as a big- or
/// little-endian unsigned integer).
/// </summary>
internal sealed record VersionTemplate
{
    public static readonly VersionTemplate Empty = new();

    public string? Product { get; init; }

    public string? Version { get; init; }

    public string? Info { get; init; }

    public string? Hostname { get; init; }

    public string? Os { get; init; }

    public string? DeviceType { get; init; }

    /// <summary>CPE 2.2 URIs without the "cpe:/" prefix ("a:apache:http_server:$1").</summary>
    public IReadOnlyList<string> Cpes { get; init; } = [];

    /// <summary>Checks every field's helper syntax; returns the first problem or null.</summary>
    public string? Validate()
    {
        foreach (var field in new[] { Product, Version, Info, Hostname, Os, DeviceType }.Concat(Cpes))
        {
            if (field is not null && !TryExpand(field, null, out _, out var error))
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>
    /// Expands <paramref name="template"/> with the groups of <paramref name="match"/> (null: syntax check only).
    /// A reference to a group that did not participate expands to the empty string, as in nmap.
    /// </summary>
    public static bool TryExpand(string template, Match? match, out string value, out string? error)
    {
        var sb = new StringBuilder(template.Length);
        error = null;
        value = string.Empty;
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c != '$' || i + 1 >= template.Length)
            {
                sb.Append(c);
                continue;
            }

            var next = template[i + 1];
            if (next is >= '1' and <= '9')
            {
                sb.Append(Group(match, next - '0'));
                i++;
                continue;
            }

            var rest = template.AsSpan(i + 1);
            if (rest.StartsWith("P("))
            {
                if (!TryArguments(template, i + 3, out var args, out var end, out error) || args.Count != 1 || !TryGroupNumber(args[0], out var n))
                {
                    error ??= "$P() takes one group number";
                    return false;
                }

                foreach (var ch in Group(match, n))
                {
                    if (ch is >= ' ' and <= '~')
                    {
                        sb.Append(ch);
                    }
                }

                i = end;
                continue;
            }

            if (rest.StartsWith("SUBST("))
            {
                if (!TryArguments(template, i + 7, out var args, out var end, out error) || args.Count != 3 || !TryGroupNumber(args[0], out var n)
                    || !TryQuoted(args[1], out var from) || !TryQuoted(args[2], out var to) || from.Length == 0)
                {
                    error ??= "$SUBST() takes a group number and two quoted strings, e.g. $SUBST(1,\"_\",\".\")";
                    return false;
                }

                sb.Append(Group(match, n).Replace(from, to, StringComparison.Ordinal));
                i = end;
                continue;
            }

            if (rest.StartsWith("I("))
            {
                if (!TryArguments(template, i + 3, out var args, out var end, out error) || args.Count != 2 || !TryGroupNumber(args[0], out var n)
                    || !TryQuoted(args[1], out var order) || order is not (">" or "<"))
                {
                    error ??= "$I() takes a group number and \">\" (big-endian) or \"<\" (little-endian)";
                    return false;
                }

                var bytes = Group(match, n);
                if (match is not null && bytes.Length > 0)
                {
                    if (bytes.Length > 8)
                    {
                        error = "$I() group is longer than 8 bytes";
                        return false;
                    }

                    ulong number = 0;
                    for (var k = 0; k < bytes.Length; k++)
                    {
                        var b = order == ">" ? bytes[k] : bytes[bytes.Length - 1 - k];
                        number = (number << 8) | (byte)b;
                    }

                    sb.Append(number.ToString(CultureInfo.InvariantCulture));
                }

                i = end;
                continue;
            }

            sb.Append(c);
        }

        value = sb.ToString();
        return true;
    }

    private static string Group(Match? match, int n) => match is not null && n < match.Groups.Count && match.Groups[n].Success ? match.Groups[n].Value : string.Empty;

    private static bool TryGroupNumber(string text, out int n) => int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out n) && n is >= 1 and <= 99;

    private static bool TryQuoted(string text, out string value)
    {
        var t = text.Trim();
        if (t.Length >= 2 && t[0] == '"' && t[^1] == '"')
        {
            value = t[1..^1];
            return true;
        }

        value = string.Empty;
        return false;
    }

    /// <summary>Splits "a,"b,c",d)" into arguments, honouring quotes; <paramref name="end"/> is the ')' index.</summary>
    private static bool TryArguments(string text, int start, out List<string> args, out int end, out string? error)
    {
        args = [];
        end = -1;
        error = null;
        var current = new StringBuilder();
        var quoted = false;
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"')
            {
                quoted = !quoted;
                current.Append(c);
            }
            else if (!quoted && c == ',')
            {
                args.Add(current.ToString());
                current.Clear();
            }
            else if (!quoted && c == ')')
            {
                args.Add(current.ToString());
                end = i;
                return true;
            }
            else
            {
                current.Append(c);
            }
        }

        error = "a helper's argument list is not closed with ')'";
        return false;
    }
}

/// <summary>Converts nmap's CPE 2.2 URIs (cpe:/a:vendor:product:version) to CPE 2.3 formatted strings (NISTIR 7695 §6.1.3, §6.2).</summary>
internal static class CpeConversion
{
    /// <summary>
    /// "a:apache:http_server:2.4.57" becomes "cpe:2.3:a:apache:http_server:2.4.57:*:*:*:*:*:*:*". An application
    /// (part a) without a version gets '*' there. Percent-encoding of the URI form is decoded, then each component
    /// is re-escaped for the formatted string. Returns false when part, vendor or product is missing.
    /// </summary>
    public static bool TryToCpe23(string uri, out string cpe23)
    {
        cpe23 = string.Empty;
        var body = uri.StartsWith("cpe:/", StringComparison.OrdinalIgnoreCase) ? uri[5..] : uri;
        var parts = body.Split(':');
        if (parts.Length < 3 || parts[0] is not ("a" or "o" or "h") || parts[1].Length == 0 || parts[2].Length == 0)
        {
            return false;
        }

        var components = new string[11];
        for (var i = 0; i < components.Length; i++)
        {
            components[i] = "*";
        }

        components[0] = parts[0];
        for (var i = 1; i < Math.Min(parts.Length, 7); i++)
        {
            var decoded = Uri.UnescapeDataString(parts[i]);
            components[i] = decoded.Length == 0 ? "*" : decoded == "-" ? "-" : ExposureIndex.Contracts.Cpe.Escape(decoded);
            if (components[i].Length == 0)
            {
                components[i] = "*";
            }
        }

        cpe23 = "cpe:2.3:" + string.Join(':', components);
        return true;
    }
}
