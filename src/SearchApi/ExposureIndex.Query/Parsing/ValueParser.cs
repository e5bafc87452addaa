using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace ExposureIndex.Query;

/// <summary>
/// Types and normalizes one raw value for a filter. Reasons are phrased to follow
/// "invalid value 'x' for filter 'f' at position n: ".
/// </summary>
internal static class ValueParser
{
    // dd/mm/yyyy is Shodan's documented form; yyyy-mm-dd and ISO 8601 (RFC 3339 profile) are accepted too.
    private static readonly string[] DateFormats =
    [
        "d/M/yyyy",
        "yyyy-MM-dd",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
    ];

    public static bool TryParse(FilterDefinition filter, RawValue raw, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FilterValue? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        value = null;
        if (raw.Text.Length == 0)
        {
            error = "the value is empty";
            return false;
        }

        if (raw.WildcardCount > 0 && filter.Kind is FilterKind.Keyword or FilterKind.Text)
        {
            return TryParseWildcard(filter, raw, out value, out error);
        }

        var text = raw.Text;
        switch (filter.Kind)
        {
            case FilterKind.Keyword:
                if (TryNormalizeKeyword(filter, text, out var keyword, out error))
                {
                    value = new KeywordValue(keyword);
                    return true;
                }

                return false;

            case FilterKind.Text:
                if (!TextTokenizer.HasWord(text))
                {
                    error = "the value has no searchable word (letters or digits)";
                    return false;
                }

                value = new PhraseValue(QueryLexer.CollapseWhitespace(text));
                error = null;
                return true;

            case FilterKind.Integer:
            case FilterKind.Hash:
                return TryParseInteger(filter, text, out value, out error);

            case FilterKind.Network:
                if (TryParseNetwork(text, filter.RequiresPrefix, out var network, out error))
                {
                    value = network;
                    return true;
                }

                return false;

            case FilterKind.Date:
                if (DateTimeOffset.TryParseExact(text, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
                {
                    value = new DateValue(date);
                    error = null;
                    return true;
                }

                error = "expected a date as dd/mm/yyyy, yyyy-mm-dd or ISO 8601 (yyyy-mm-ddThh:mm:ssZ)";
                return false;

            case FilterKind.Boolean:
                if (TryParseBoolean(text, out var flag))
                {
                    value = new BooleanValue(flag);
                    error = null;
                    return true;
                }

                error = "expected true or false";
                return false;

            default:
                error = $"filter kind {filter.Kind} is not supported";
                return false;
        }
    }

    internal static bool TryParseNetwork(string text, bool requirePrefix, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NetworkValue? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        value = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!TryParseAddress(addressText, out var address, out error))
        {
            return false;
        }

        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var family = max == 32 ? "IPv4" : "IPv6";
        int prefix;
        if (slash < 0)
        {
            if (requirePrefix)
            {
                error = $"expected a CIDR block such as {(max == 32 ? "192.0.2.0/24" : "2001:db8::/32")} (the prefix length is required)";
                return false;
            }

            prefix = max;
        }
        else
        {
            var prefixText = text.AsSpan(slash + 1);
            if (prefixText.IsEmpty)
            {
                error = "missing prefix length after '/'";
                return false;
            }

            if (prefixText.Length > 3 || !IsAsciiDigits(prefixText))
            {
                error = $"prefix length '{QueryLexer.Excerpt(prefixText.ToString())}' is not a number";
                return false;
            }

            prefix = int.Parse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture);
            if (prefix > max)
            {
                error = $"prefix length {prefix} is out of range for {family} (0-{max})";
                return false;
            }
        }

        value = NetworkValue.Create(address, prefix);
        return true;
    }

    private static bool TryParseWildcard(FilterDefinition filter, RawValue raw, out FilterValue? value, out string? error)
    {
        value = null;
        if (filter.Kind != FilterKind.Keyword || !filter.AllowsWildcards)
        {
            error = $"filter '{filter.Name}' does not support wildcards (to search for '*' or '?' literally, quote the value and escape them with a backslash)";
            return false;
        }

        if (raw.WildcardCount > GlobPattern.MaxWildcards)
        {
            error = $"{raw.WildcardCount} wildcards (limit {GlobPattern.MaxWildcards})";
            return false;
        }

        // Lower-casing the pattern text leaves its escapes intact: they are ASCII punctuation.
        var source = filter.Normalization is ValueNormalization.LowerCase or ValueNormalization.Hostname or ValueNormalization.Cpe
            ? raw.GlobSource.ToLowerInvariant()
            : raw.GlobSource;
        if (!GlobPattern.TryParse(source, filter.CaseSensitive, out var glob, out error))
        {
            return false;
        }

        value = new WildcardValue(glob);
        return true;
    }

    private static bool TryNormalizeKeyword(FilterDefinition filter, string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? normalized, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        normalized = null;
        error = null;
        if (!filter.AllowedValues.IsDefaultOrEmpty)
        {
            foreach (var allowed in filter.AllowedValues)
            {
                if (string.Equals(allowed, text, StringComparison.OrdinalIgnoreCase))
                {
                    normalized = allowed;
                    return true;
                }
            }

            error = $"expected one of {string.Join(", ", filter.AllowedValues)}";
            return false;
        }

        switch (filter.Normalization)
        {
            case ValueNormalization.None:
                normalized = text;
                return true;

            case ValueNormalization.LowerCase:
                normalized = text.ToLowerInvariant();
                return true;

            case ValueNormalization.CountryCode:
                if (text.Length == 2 && char.IsAsciiLetter(text[0]) && char.IsAsciiLetter(text[1]))
                {
                    normalized = text.ToUpperInvariant();
                    return true;
                }

                error = "expected a two-letter ISO 3166-1 country code such as US";
                return false;

            case ValueNormalization.AutonomousSystem:
                return TryNormalizeAsn(text, out normalized, out error);

            case ValueNormalization.Hostname:
                return TryNormalizeHostname(text, out normalized, out error);

            case ValueNormalization.Md5Hex:
                if (text.Length == 32 && IsAsciiHex(text))
                {
                    normalized = text.ToLowerInvariant();
                    return true;
                }

                error = "expected 32 hexadecimal digits (an MD5 digest)";
                return false;

            case ValueNormalization.CertificateFingerprint:
            {
                var hex = text.Replace(":", string.Empty, StringComparison.Ordinal);
                if (hex.Length is 40 or 64 && IsAsciiHex(hex))
                {
                    normalized = hex.ToLowerInvariant();
                    return true;
                }

                error = "expected a SHA-1 (40 hexadecimal digits) or SHA-256 (64 hexadecimal digits) fingerprint";
                return false;
            }

            case ValueNormalization.CertificateSerial:
                return TryNormalizeSerial(text, out normalized, out error);

            case ValueNormalization.SshFingerprint:
                return TryNormalizeSshFingerprint(text, out normalized, out error);

            case ValueNormalization.Cpe:
                return TryNormalizeCpe(text, out normalized, out error);

            default:
                error = $"normalization {filter.Normalization} is not supported";
                return false;
        }
    }

    private static bool TryNormalizeAsn(string text, out string? normalized, out string? error)
    {
        normalized = null;
        var digits = text.StartsWith("AS", StringComparison.OrdinalIgnoreCase) ? text.AsSpan(2) : text.AsSpan();
        if (digits.Length is > 0 and <= 10 && IsAsciiDigits(digits)
            && uint.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            normalized = "AS" + number.ToString(CultureInfo.InvariantCulture);
            error = null;
            return true;
        }

        error = "expected an AS number such as AS15169 or 15169 (0 to 4294967295)";
        return false;
    }

    private static bool TryNormalizeHostname(string text, out string? normalized, out string? error)
    {
        normalized = null;
        var name = text.ToLowerInvariant();

        // A fully qualified name may end in the root label's dot (RFC 1034 §3.1); stored names do not.
        if (name.EndsWith('.'))
        {
            name = name[..^1];
        }

        if (name.Length == 0 || name.StartsWith('.') || name.Contains("..", StringComparison.Ordinal))
        {
            error = "expected a host name such as www.example.com";
            return false;
        }

        if (name.Any(char.IsWhiteSpace))
        {
            error = "a host name cannot contain whitespace";
            return false;
        }

        if (name.Length > 253)
        {
            error = "a host name is at most 253 characters long (RFC 1035 §2.3.4)";
            return false;
        }

        normalized = name;
        error = null;
        return true;
    }

    private static bool TryNormalizeSerial(string text, out string? normalized, out string? error)
    {
        normalized = null;

        // RFC 5280 §4.1.2.2: serial numbers are at most 20 octets, i.e. 40 hex digits or 49 decimal digits.
        string? hex = null;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            hex = text[2..];
        }
        else if (text.Contains(':', StringComparison.Ordinal))
        {
            hex = text.Replace(":", string.Empty, StringComparison.Ordinal);
        }

        if (hex is not null)
        {
            if (hex.Length is > 0 and <= 40 && IsAsciiHex(hex))
            {
                normalized = BigInteger.Parse("0" + hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
                error = null;
                return true;
            }
        }
        else if (text.Length <= 49 && IsAsciiDigits(text))
        {
            normalized = BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
            error = null;
            return true;
        }

        error = "expected a serial number of at most 20 octets, in decimal, or in hexadecimal with a 0x prefix or colons";
        return false;
    }

    private static bool TryNormalizeSshFingerprint(string text, out string? normalized, out string? error)
    {
        normalized = null;
        const string Sha256Prefix = "SHA256:";
        if (text.StartsWith(Sha256Prefix, StringComparison.OrdinalIgnoreCase))
        {
            // OpenSSH prints unpadded base64 of the 32-byte digest: 43 characters.
            var body = text.AsSpan(Sha256Prefix.Length).TrimEnd('=');
            if (body.Length == 43 && IsBase64Text(body))
            {
                normalized = string.Concat(Sha256Prefix, body);
                error = null;
                return true;
            }

            error = "expected SHA256: followed by 43 base64 characters";
            return false;
        }

        var hex = text.Replace(":", string.Empty, StringComparison.Ordinal);
        if (hex.Length == 32 && IsAsciiHex(hex))
        {
            var lower = hex.ToLowerInvariant();
            var parts = new string[16];
            for (var i = 0; i < 16; i++)
            {
                parts[i] = lower.Substring(i * 2, 2);
            }

            normalized = string.Join(':', parts);
            error = null;
            return true;
        }

        error = "expected an MD5 fingerprint (32 hexadecimal digits, colons optional) or SHA256:base64";
        return false;
    }

    private static bool TryNormalizeCpe(string text, out string? normalized, out string? error)
    {
        normalized = null;
        var lower = text.ToLowerInvariant();
        const string Cpe23 = "cpe:2.3:";
        const string Cpe22 = "cpe:/";
        if (lower.StartsWith(Cpe23, StringComparison.Ordinal) && lower.Length > Cpe23.Length)
        {
            normalized = lower;
            error = null;
            return true;
        }

        if (lower.StartsWith(Cpe22, StringComparison.Ordinal) && lower.Length > Cpe22.Length)
        {
            // A CPE 2.2 URI without percent-escapes or packed editions maps component for component onto the
            // 2.3 formatted string (NISTIR 7695 §6.1.2 and §6.2.2).
            if (lower.AsSpan().IndexOfAny('%', '~') >= 0)
            {
                error = "CPE 2.2 URIs with percent-escapes or packed editions are not supported; use the CPE 2.3 form";
                return false;
            }

            normalized = Cpe23 + lower[Cpe22.Length..];
            error = null;
            return true;
        }

        error = "expected a CPE 2.3 name (cpe:2.3:part:vendor:product...) or a CPE 2.2 URI (cpe:/part:vendor:product...)";
        return false;
    }

    private static bool TryParseInteger(FilterDefinition filter, string text, out FilterValue? value, out string? error)
    {
        value = null;
        var digits = text.StartsWith('-') ? text.AsSpan(1) : text.AsSpan();
        var what = filter.Kind == FilterKind.Hash ? "a signed 32-bit integer" : "an integer";
        if (digits.IsEmpty || !IsAsciiDigits(digits))
        {
            error = $"expected {what}";
            return false;
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            || number < filter.MinValue || number > filter.MaxValue)
        {
            error = filter.Kind == FilterKind.Hash
                ? $"expected {what} ({filter.MinValue} to {filter.MaxValue})"
                : $"{filter.Name} must be between {filter.MinValue} and {filter.MaxValue}";
            return false;
        }

        value = new IntegerValue(number);
        error = null;
        return true;
    }

    private static bool TryParseBoolean(string text, out bool value)
    {
        value = false;
        switch (text.ToLowerInvariant())
        {
            case "true" or "yes" or "1":
                value = true;
                return true;
            case "false" or "no" or "0":
                return true;
            default:
                return false;
        }
    }

    private static bool TryParseAddress(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        address = null;
        if (text.Contains(':', StringComparison.Ordinal))
        {
            // Only hex digits, colons and dots (for an embedded IPv4 tail, RFC 4291 §2.2): no zone ids, no brackets.
            const int MaxIPv6TextLength = 45;
            if (text.Length <= MaxIPv6TextLength
                && text.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.')
                && IPAddress.TryParse(text, out var parsed)
                && parsed.AddressFamily == AddressFamily.InterNetworkV6)
            {
                address = parsed;
                error = null;
                return true;
            }

            error = "expected an IPv6 address such as 2001:db8::1";
            return false;
        }

        // Strict dotted quad: exactly four decimal octets without leading zeros, which some parsers read as octal.
        Span<byte> bytes = stackalloc byte[4];
        var parts = text.Split('.');
        if (parts.Length == 4)
        {
            var ok = true;
            for (var i = 0; i < 4 && ok; i++)
            {
                var part = parts[i];
                ok = part.Length is > 0 and <= 3 && IsAsciiDigits(part) && (part.Length == 1 || part[0] != '0')
                    && int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture) <= 255;
                if (ok)
                {
                    bytes[i] = (byte)int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture);
                }
            }

            if (ok)
            {
                address = new IPAddress(bytes);
                error = null;
                return true;
            }
        }

        error = "expected an IPv4 address of four decimal octets such as 192.0.2.1, an IPv6 address, or a CIDR block";
        return false;
    }

    private static bool IsAsciiDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAsciiHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsBase64Text(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '/'))
            {
                return false;
            }
        }

        return true;
    }
}
