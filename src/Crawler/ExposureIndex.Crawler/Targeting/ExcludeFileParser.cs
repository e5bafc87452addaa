using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// Reads <c>--exclude FILE</c>: one address, CIDR block or range per line (IPv4 or IPv6, any prefix length),
/// <c>#</c> starts a comment, blank lines are skipped, the same format as zmap's blocklist file. Each entry becomes
/// a <see cref="BlockRule"/> of category <see cref="AddressCategory.Excluded"/>, which no flag unlocks, named
/// after the line it came from so a refusal can say <c>excluded by /etc/exclude.txt:12</c>.
/// </summary>
internal static class ExcludeFileParser
{
    public const long MaxFileBytes = 256L * 1024 * 1024;

    public const int MaxErrors = 100;

    public static List<BlockRule> Parse(IEnumerable<string> paths, ICollection<SpecError> errors)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(errors);
        var rules = new List<BlockRule>();
        foreach (var path in paths)
        {
            ParseFile(path, rules, errors);
        }

        return rules;
    }

    /// <summary>Parses exclusion text (the contents of one file) named <paramref name="source"/> in messages.</summary>
    public static List<BlockRule> ParseText(string text, string source, ICollection<SpecError> errors)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rules = new List<BlockRule>();
        using var reader = new StringReader(text);
        ParseLines(ReadLines(reader), source, rules, errors);
        return rules;
    }

    private static IEnumerable<string> ReadLines(TextReader reader)
    {
        // Bounded: ends at the end of the text.
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }

    private static void ParseFile(string path, List<BlockRule> rules, ICollection<SpecError> errors)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            errors.Add(new SpecError("exclude", 0, 1, path ?? string.Empty, "exclude file name is empty"));
            return;
        }

        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                errors.Add(new SpecError("exclude", 0, 1, path, $"exclude file not found ({info.FullName})"));
                return;
            }

            if (info.Length > MaxFileBytes)
            {
                errors.Add(new SpecError("exclude", 0, 1, path, $"exclude file is larger than {MaxFileBytes / (1024 * 1024)} MiB"));
                return;
            }

            ParseLines(File.ReadLines(path), path, rules, errors);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add(new SpecError("exclude", 0, 1, path, $"cannot read exclude file: {e.Message}"));
        }
    }

    private static void ParseLines(IEnumerable<string> lines, string source, List<BlockRule> rules, ICollection<SpecError> errors)
    {
        var lineNumber = 0;
        var failures = 0;
        foreach (var raw in lines)
        {
            lineNumber++;
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var content = hash >= 0 ? raw[..hash] : raw;
            var start = 0;
            while (start < content.Length && char.IsWhiteSpace(content[start]))
            {
                start++;
            }

            var token = content.Trim();
            if (token.Length == 0)
            {
                continue;
            }

            if (token.Any(char.IsWhiteSpace) || token.Contains(',', StringComparison.Ordinal))
            {
                Fail(new SpecError(source, lineNumber, start + 1, token, "one address, CIDR block or range per line"));
                continue;
            }

            if (TryParseEntry(token, out var range, out var error))
            {
                var where = string.Create(CultureInfo.InvariantCulture, $"{source}:{lineNumber}");
                rules.Add(new BlockRule(range, AddressCategory.Excluded, "excluded by the operator", where));
            }
            else
            {
                Fail(new SpecError(source, lineNumber, start + 1, token, error));
            }

            if (failures >= MaxErrors)
            {
                return;
            }
        }

        void Fail(SpecError error)
        {
            failures++;
            errors.Add(failures == MaxErrors ? error with { Message = $"{error.Message} (stopping after {MaxErrors} errors)" } : error);
        }
    }

    /// <summary>An address, <c>net/len</c> (any length: exclusions are never enumerated) or <c>first-last</c>.</summary>
    public static bool TryParseEntry(string token, out AddressRange range, out string error)
    {
        ArgumentNullException.ThrowIfNull(token);
        range = default;
        var slash = token.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (!TargetParser.TryParseAddress(token[..slash], out var network, out error))
            {
                return false;
            }

            var max = AddressRange.MaxPrefix(network.AddressFamily);
            var lengthText = token[(slash + 1)..];
            var length = lengthText.Length is >= 1 and <= 3 && lengthText.All(char.IsAsciiDigit)
                ? int.Parse(lengthText, CultureInfo.InvariantCulture)
                : -1;
            if (length < 0 || length > max)
            {
                error = $"prefix length '/{lengthText}' is not a number 0-{max}";
                return false;
            }

            range = AddressRange.FromPrefix(network, length);
            return true;
        }

        var dash = token.IndexOf('-', StringComparison.Ordinal);
        if (dash >= 0)
        {
            if (!TargetParser.TryParseAddress(token[..dash], out var first, out error)
                || !TargetParser.TryParseAddress(token[(dash + 1)..], out var last, out error))
            {
                return false;
            }

            if (first.AddressFamily != last.AddressFamily)
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

            range = new AddressRange(first.AddressFamily, lo, hi);
            error = string.Empty;
            return true;
        }

        if (!TargetParser.TryParseAddress(token, out IPAddress address, out error))
        {
            return false;
        }

        range = AddressRange.Single(address);
        return address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;
    }
}
