using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>One parsed target: the range it names and the token it came from (used in refusal messages).</summary>
internal sealed record TargetEntry(AddressRange Range, string Token);

/// <summary>
/// Parses targets: IPv4 and IPv6 addresses, CIDR blocks (host bits are cleared, as nmap does), address ranges
/// (<c>10.0.0.1-10.0.0.9</c>, or nmap's last-octet shorthand <c>10.0.0.1-9</c>) and <c>@file</c> (one target per
/// line, <c>#</c> starts a comment). Tokens may also be separated by commas or blanks inside one argument.
/// Host names are refused: the crawler never resolves names, so it never scans something nobody typed.
/// </summary>
internal static class TargetParser
{
    /// <summary>IPv6 prefixes longer than this many host bits are too large to enumerate address by address.</summary>
    public const int MaxIPv6HostBits = 16;

    public const int MaxEntries = 10_000_000;

    public const int MaxErrors = 100;

    public const long MaxFileBytes = 512L * 1024 * 1024;

    public static List<TargetEntry> Parse(IReadOnlyList<string> specs, ICollection<SpecError> errors)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(errors);
        var state = new ParseState(errors);
        for (var i = 0; i < specs.Count && !state.Stopped; i++)
        {
            var source = string.Create(CultureInfo.InvariantCulture, $"argument {i + 1}");
            ParseText(specs[i] ?? string.Empty, source, 0, allowFiles: true, state);
        }

        return state.Entries;
    }

    /// <summary>Parses one token that must be an address, a CIDR block or a range (no files).</summary>
    public static bool TryParseToken(string token, out AddressRange range, out string error)
    {
        ArgumentNullException.ThrowIfNull(token);
        range = default;
        var slash = token.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            return TryParsePrefix(token, slash, out range, out error);
        }

        var dash = token.IndexOf('-', StringComparison.Ordinal);
        if (dash >= 0)
        {
            return TryParseRange(token, dash, out range, out error);
        }

        if (!TryParseAddress(token, out var address, out error))
        {
            return false;
        }

        range = AddressRange.Single(address);
        return true;
    }

    /// <summary>
    /// Strict address syntax: IPv4 only as four decimal octets (no "127.1", no hex, no leading zeros, which
    /// inet_aton reads as octal), IPv6 as RFC 4291 §2.2 text, optionally in brackets, without a zone index.
    /// </summary>
    public static bool TryParseAddress(string text, out IPAddress address, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        address = IPAddress.None;
        error = string.Empty;
        if (text.Length == 0)
        {
            error = "empty address";
            return false;
        }

        if (text.Contains(':', StringComparison.Ordinal))
        {
            var inner = text.StartsWith('[') && text.EndsWith(']') ? text[1..^1] : text;
            if (inner.Contains('%', StringComparison.Ordinal))
            {
                error = "IPv6 zone indexes (%...) are not supported";
                return false;
            }

            if (!IPAddress.TryParse(inner, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = "not a valid IPv6 address";
                return false;
            }

            address = parsed;
            return true;
        }

        if (text.Any(char.IsAsciiLetter))
        {
            error = char.IsAsciiDigit(text[0]) && !text.Contains('-', StringComparison.Ordinal) && text.Count(c => c == '.') <= 3
                ? "an IPv4 address needs four decimal octets (hex and octal forms are not accepted)"
                : "host names are not resolved; give an IP address";
            return false;
        }

        return TryParseIPv4(text, out address, out error);
    }

    private static bool TryParseIPv4(string text, out IPAddress address, out string error)
    {
        address = IPAddress.None;
        error = string.Empty;
        Span<byte> octets = stackalloc byte[4];
        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            error = "an IPv4 address needs four dot-separated decimal octets";
            return false;
        }

        for (var i = 0; i < 4; i++)
        {
            var part = parts[i];
            if (part.Length is 0 or > 3 || !part.All(char.IsAsciiDigit))
            {
                error = $"octet {i + 1} ('{part}') is not a decimal number 0-255";
                return false;
            }

            if (part.Length > 1 && part[0] == '0')
            {
                error = $"octet {i + 1} ('{part}') has a leading zero, which some tools read as octal";
                return false;
            }

            var value = int.Parse(part, CultureInfo.InvariantCulture);
            if (value > 255)
            {
                error = $"octet {i + 1} ({value}) is greater than 255";
                return false;
            }

            octets[i] = (byte)value;
        }

        address = new IPAddress(octets);
        return true;
    }

    private static bool TryParsePrefix(string token, int slash, out AddressRange range, out string error)
    {
        range = default;
        if (!TryParseAddress(token[..slash], out var address, out error))
        {
            return false;
        }

        var lengthText = token[(slash + 1)..];
        var max = AddressRange.MaxPrefix(address.AddressFamily);
        if (lengthText.Length is 0 or > 3 || !lengthText.All(char.IsAsciiDigit))
        {
            error = $"prefix length '/{lengthText}' is not a number 0-{max}";
            return false;
        }

        var length = int.Parse(lengthText, CultureInfo.InvariantCulture);
        if (length > max)
        {
            error = $"prefix length /{length} is longer than {max} bits";
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6 && max - length > MaxIPv6HostBits)
        {
            error = $"IPv6 prefix /{length} is too large to enumerate; use /{max - MaxIPv6HostBits} or longer";
            return false;
        }

        range = AddressRange.FromPrefix(address, length);
        return true;
    }

    private static bool TryParseRange(string token, int dash, out AddressRange range, out string error)
    {
        range = default;
        if (!TryParseAddress(token[..dash], out var first, out error))
        {
            return false;
        }

        var rightText = token[(dash + 1)..];
        IPAddress last;
        if (first.AddressFamily == AddressFamily.InterNetwork && rightText.Length is >= 1 and <= 3 && rightText.All(char.IsAsciiDigit))
        {
            // nmap's shorthand: 10.0.0.1-9 varies the last octet only.
            var octet = int.Parse(rightText, CultureInfo.InvariantCulture);
            if (octet > 255)
            {
                error = $"last octet {octet} of the range is greater than 255";
                return false;
            }

            var bytes = first.GetAddressBytes();
            bytes[3] = (byte)octet;
            last = new IPAddress(bytes);
        }
        else if (!TryParseAddress(rightText, out last, out error))
        {
            error = $"range end: {error}";
            return false;
        }

        if (last.AddressFamily != first.AddressFamily)
        {
            error = "range mixes IPv4 and IPv6";
            return false;
        }

        var lo = AddressRange.ToKey(first);
        var hi = AddressRange.ToKey(last);
        if (lo > hi)
        {
            error = $"range is backwards ({first} > {last})";
            return false;
        }

        if (first.AddressFamily == AddressFamily.InterNetworkV6 && hi - lo >= (UInt128.One << MaxIPv6HostBits))
        {
            error = $"IPv6 range holds more than {1 << MaxIPv6HostBits} addresses, too many to enumerate";
            return false;
        }

        range = new AddressRange(first.AddressFamily, lo, hi);
        return true;
    }

    private static void ParseText(string text, string source, int line, bool allowFiles, ParseState state)
    {
        var i = 0;
        // Bounded: every pass advances i through a finite string.
        while (i < text.Length && !state.Stopped)
        {
            if (IsSeparator(text[i]))
            {
                i++;
                continue;
            }

            if (line > 0 && text[i] == '#')
            {
                return;
            }

            var start = i;
            while (i < text.Length && !IsSeparator(text[i]) && !(line > 0 && text[i] == '#'))
            {
                i++;
            }

            var token = text[start..i];
            if (token.StartsWith('@'))
            {
                if (!allowFiles)
                {
                    state.Error(new SpecError(source, line, start + 1, token, "target files cannot include other files"));
                    continue;
                }

                ParseFile(token, source, start, state);
                continue;
            }

            if (TryParseToken(token, out var range, out var error))
            {
                state.Add(new TargetEntry(range, token), source, line, start);
            }
            else
            {
                state.Error(new SpecError(source, line, start + 1, token, error));
            }
        }
    }

    private static void ParseFile(string token, string source, int start, ParseState state)
    {
        var path = token[1..];
        if (path.Length == 0)
        {
            state.Error(new SpecError(source, 0, start + 1, token, "'@' must be followed by a file name"));
            return;
        }

        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                state.Error(new SpecError(source, 0, start + 1, token, $"target file not found ({info.FullName})"));
                return;
            }

            if (info.Length > MaxFileBytes)
            {
                state.Error(new SpecError(source, 0, start + 1, token, $"target file is larger than {MaxFileBytes / (1024 * 1024)} MiB"));
                return;
            }

            var lineNumber = 0;
            foreach (var line in File.ReadLines(path))
            {
                lineNumber++;
                ParseText(line, path, lineNumber, allowFiles: false, state);
                if (state.Stopped)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            state.Error(new SpecError(source, 0, start + 1, token, $"cannot read target file: {e.Message}"));
        }
    }

    private static bool IsSeparator(char c) => c == ',' || char.IsWhiteSpace(c);

    private sealed class ParseState(ICollection<SpecError> errors)
    {
        private int _errors;

        public List<TargetEntry> Entries { get; } = [];

        public bool Stopped { get; private set; }

        public void Add(TargetEntry entry, string source, int line, int start)
        {
            if (Entries.Count >= MaxEntries)
            {
                Error(new SpecError(source, line, start + 1, entry.Token, $"more than {MaxEntries} target entries; split the scan"));
                Stopped = true;
                return;
            }

            Entries.Add(entry);
        }

        public void Error(SpecError error)
        {
            if (_errors >= MaxErrors)
            {
                Stopped = true;
                return;
            }

            if (++_errors == MaxErrors)
            {
                errors.Add(error with { Message = $"{error.Message} (stopping after {MaxErrors} errors)" });
                Stopped = true;
                return;
            }

            errors.Add(error);
        }
    }
}
