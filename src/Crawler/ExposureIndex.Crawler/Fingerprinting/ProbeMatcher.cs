using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ExposureIndex.Crawler.Fingerprinting.Probes;

namespace ExposureIndex.Crawler.Fingerprinting;

/// <summary>What one match line made of a response: the service and its version fields, templates expanded.</summary>
internal sealed record ServiceFingerprint
{
    public required string Service { get; init; }

    public required bool IsSoft { get; init; }

    public string? Product { get; init; }

    public string? Version { get; init; }

    public string? Info { get; init; }

    public string? Hostname { get; init; }

    public string? Os { get; init; }

    public string? DeviceType { get; init; }

    /// <summary>CPE 2.3 formatted strings.</summary>
    public IReadOnlyList<string> Cpe23 { get; init; } = [];

    /// <summary>The line that matched (file:line), for diagnostics and tests.</summary>
    public required ServiceMatch Match { get; init; }
}

/// <summary>
/// Runs a probe's match lines over a response. The bytes are mapped to a string one char per byte (Latin-1), so
/// patterns written with \xHH see the exact bytes. Each regex has its own match timeout, and one response has an
/// overall budget, so a hostile response cannot make matching slow (catastrophic backtracking ends at the timeout
/// and counts as no match).
/// </summary>
internal sealed class ProbeMatcher(ProbeCatalog catalog)
{
    /// <summary>Total matching time one response may take, whatever the number of patterns.</summary>
    public static readonly TimeSpan ResponseBudget = TimeSpan.FromSeconds(2);

    private long _timeouts;

    /// <summary>Patterns that hit their match timeout (and were treated as no match).</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    public ProbeCatalog Catalog => catalog;

    public static string ToLatin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>
    /// The first hard match among the probe's lines, its fallbacks' and (TCP) the NULL probe's; else the first soft
    /// match; else null. <paramref name="softService"/> restricts hard matches to that service (after a soft match).
    /// </summary>
    public ServiceFingerprint? Match(ServiceProbe probe, ReadOnlySpan<byte> response, string? softService = null, bool includeNull = true)
    {
        ArgumentNullException.ThrowIfNull(probe);
        if (response.IsEmpty)
        {
            return null;
        }

        var text = ToLatin1(response);
        var clock = Stopwatch.StartNew();
        ServiceFingerprint? soft = null;
        foreach (var source in Sources(probe, includeNull))
        {
            foreach (var line in source.Matches)
            {
                if (clock.Elapsed > ResponseBudget)
                {
                    return soft;
                }

                if (line.IsSoft && soft is not null)
                {
                    continue;
                }

                if (softService is not null && !line.IsSoft && !SameService(line.Service, softService))
                {
                    continue;
                }

                var regex = line.Regex;
                if (regex is null)
                {
                    continue;
                }

                Match m;
                try
                {
                    m = regex.Match(text);
                }
                catch (RegexMatchTimeoutException)
                {
                    Interlocked.Increment(ref _timeouts);
                    continue;
                }

                if (!m.Success)
                {
                    continue;
                }

                var fingerprint = Expand(line, m);
                if (!line.IsSoft)
                {
                    return fingerprint;
                }

                soft = fingerprint;
                softService ??= line.Service;
            }
        }

        return soft;
    }

    private IEnumerable<ServiceProbe> Sources(ServiceProbe probe, bool includeNull)
    {
        yield return probe;
        foreach (var fallback in probe.Fallbacks)
        {
            yield return fallback;
        }

        if (includeNull && probe.Protocol == ProbeProtocol.Tcp && !probe.IsNull && catalog.Null is { } nullProbe && !probe.Fallbacks.Contains(nullProbe))
        {
            yield return nullProbe;
        }
    }

    internal static bool SameService(string a, string b)
        => string.Equals(StripTunnel(a), StripTunnel(b), StringComparison.OrdinalIgnoreCase);

    internal static string StripTunnel(string service) => service.StartsWith("ssl/", StringComparison.OrdinalIgnoreCase) ? service[4..] : service;

    internal static ServiceFingerprint Expand(ServiceMatch line, Match m)
    {
        var t = line.Template;
        string? Field(string? template)
        {
            if (template is null)
            {
                return null;
            }

            VersionTemplate.TryExpand(template, m, out var value, out _);
            value = value.Trim();
            return value.Length == 0 ? null : value;
        }

        var cpes = new List<string>();
        foreach (var cpe in t.Cpes)
        {
            if (Field(cpe) is { } uri && CpeConversion.TryToCpe23(uri, out var cpe23) && !cpes.Contains(cpe23))
            {
                cpes.Add(cpe23);
            }
        }

        return new ServiceFingerprint
        {
            Service = line.Service,
            IsSoft = line.IsSoft,
            Product = Field(t.Product),
            Version = Field(t.Version),
            Info = Field(t.Info),
            Hostname = Field(t.Hostname),
            Os = Field(t.Os),
            DeviceType = Field(t.DeviceType),
            Cpe23 = cpes,
            Match = line,
        };
    }
}
