namespace ExposureIndex.Contracts;

/// <summary>CPE helpers. Records carry CPE 2.3 formatted strings (NISTIR 7695 §6.2); Shodan also lists the 2.2 URI form.</summary>
public static class Cpe
{
    /// <summary>
    /// Converts a CPE 2.3 formatted string (cpe:2.3:part:vendor:product:version:...) to the CPE 2.2 URI
    /// binding Shodan lists under <c>cpe</c> (cpe:/part:vendor:product:version), dropping trailing wildcards.
    /// Returns false for anything that is not a formatted 2.3 string.
    /// </summary>
    public static bool TryToUri(string formatted, out string uri)
    {
        uri = string.Empty;
        if (string.IsNullOrEmpty(formatted) || !formatted.StartsWith("cpe:2.3:", StringComparison.Ordinal))
        {
            return false;
        }

        var parts = SplitUnescaped(formatted.AsSpan(8));
        if (parts.Count < 3)
        {
            return false;
        }

        // Only part, vendor, product, version and update map cleanly onto the 2.2 URI without packing.
        var keep = Math.Min(parts.Count, 5);
        while (keep > 2 && parts[keep - 1] is "*" or "-" or "")
        {
            keep--;
        }

        var segments = new string[keep];
        for (var i = 0; i < keep; i++)
        {
            segments[i] = parts[i] == "*" ? string.Empty : parts[i].Replace("\\", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        }

        uri = "cpe:/" + string.Join(':', segments);
        return true;
    }

    /// <summary>Builds a CPE 2.3 formatted string for an application; an unknown version becomes '*'.</summary>
    public static string Application(string vendor, string product, string? version)
        => $"cpe:2.3:a:{Escape(vendor)}:{Escape(product)}:{(string.IsNullOrWhiteSpace(version) ? "*" : Escape(version))}:*:*:*:*:*:*:*";

    /// <summary>Escapes a value for a CPE 2.3 formatted string component (NISTIR 7695 §6.2.2.2).</summary>
    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var sb = new System.Text.StringBuilder(value.Length + 4);
        foreach (var ch in value.Trim().ToLowerInvariant())
        {
            if (ch == ' ')
            {
                sb.Append('_');
            }
            else if (char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.')
            {
                sb.Append(ch);
            }
            else if (ch < 128)
            {
                sb.Append('\\').Append(ch);
            }
        }

        return sb.ToString();
    }

    private static List<string> SplitUnescaped(ReadOnlySpan<char> text)
    {
        var parts = new List<string>(11);
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
                continue;
            }

            if (text[i] == ':')
            {
                parts.Add(text[start..i].ToString());
                start = i + 1;
            }
        }

        parts.Add(text[start..].ToString());
        return parts;
    }
}
