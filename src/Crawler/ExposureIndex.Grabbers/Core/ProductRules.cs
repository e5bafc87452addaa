using System.Text.RegularExpressions;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Grabbers;

/// <summary>What a banner says the software is.</summary>
public sealed record ProductMatch(string Product, string? Version, string? Info, string? Os, string Cpe23)
{
    /// <summary>Writes product, version, info, os and the CPE into <paramref name="record"/> (only what is known).</summary>
    public void ApplyTo(ServiceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        record.Product = Product;
        record.Version = Version ?? string.Empty;
        if (Info is not null)
        {
            record.Info = Info;
        }

        if (Os is not null)
        {
            record.Os = Os;
        }

        record.Cpe23.Clear();
        record.Cpe23.Add(Cpe23);
    }
}

/// <summary>
/// One "this banner names that product" rule: a regex over the banner text whose optional groups <c>v</c>, <c>i</c>
/// and <c>o</c> capture version, extra info and OS, and the NVD vendor/product for the CPE. Regexes run with a timeout.
/// </summary>
public sealed record ProductRule(string Pattern, string Product, string CpeVendor, string CpeProduct, string? Os = null)
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(200);
    private Regex? _regex;

    private Regex Regex => _regex ??= new Regex(Pattern, RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, MatchTimeout);

    /// <summary>The first rule that matches <paramref name="text"/>, or null.</summary>
    public static ProductMatch? FirstMatch(IEnumerable<ProductRule> rules, string? text)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        foreach (var rule in rules)
        {
            if (rule.TryMatch(text) is { } match)
            {
                return match;
            }
        }

        return null;
    }

    public ProductMatch? TryMatch(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Match match;
        try
        {
            match = Regex.Match(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }

        if (!match.Success)
        {
            return null;
        }

        var version = match.Groups["v"] is { Success: true, Length: > 0 } v ? v.Value : null;
        var info = match.Groups["i"] is { Success: true, Length: > 0 } i ? i.Value.Trim() : null;
        var os = match.Groups["o"] is { Success: true, Length: > 0 } o ? o.Value.Trim() : Os;
        return new ProductMatch(Product, version, info, os, Cpe.Application(CpeVendor, CpeProduct, version));
    }
}
