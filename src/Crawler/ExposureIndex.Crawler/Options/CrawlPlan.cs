using System.Globalization;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Options;

/// <summary>
/// Thrown before anything is sent when the safety policy refuses every target. The message is one line naming
/// the rule, e.g. <c>refusing 127.0.0.1: loopback (RFC 1122) - pass --allow-loopback to scan it</c>.
/// </summary>
public sealed class TargetsRefusedException : Exception
{
    public TargetsRefusedException()
        : this("every target was refused by the address policy")
    {
    }

    public TargetsRefusedException(string message)
        : base(message)
    {
        Refusals = [message];
    }

    public TargetsRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Refusals = [message];
    }

    internal TargetsRefusedException(IReadOnlyList<string> refusals, int omitted)
        : base(Format(refusals, omitted))
    {
        Refusals = refusals;
    }

    /// <summary>Every refusal (capped), one line each.</summary>
    public IReadOnlyList<string> Refusals { get; }

    private static string Format(IReadOnlyList<string> refusals, int omitted)
    {
        var more = refusals.Count - 1 + omitted;
        return more == 0
            ? refusals[0]
            : string.Create(CultureInfo.InvariantCulture, $"{refusals[0]} (and {more} more refused target{(more == 1 ? "" : "s")})");
    }
}

/// <summary>Valid options turned into what the engine runs: the target set after the policy, ports, names.</summary>
internal sealed record CrawlPlan(
    CrawlOptions Options,
    ScanSpace Space,
    PortSpec Ports,
    PortSet HttpPorts,
    PolicyResult Policy,
    string ScanId,
    string Scanner,
    string Producer)
{
    public TargetSet Targets => Space.Targets;

    /// <summary>The UDP ip:port pairs, probed with the UDP probes after the TCP pairs.</summary>
    public ScanSpace UdpSpace { get; } = new(Space.Targets, Ports.Udp);

    /// <summary>UDP pairs named by the port spec but not probed: none since UDP probing (kept for the summary's shape).</summary>
    public ulong UdpNotProbed => 0;

    /// <summary>Every ip:port/transport pair this crawl will try.</summary>
    public ulong TotalPairs => Space.Count + UdpSpace.Count;

    /// <summary>Validates and plans; throws <see cref="CrawlOptionsException"/> or <see cref="TargetsRefusedException"/>.</summary>
    public static CrawlPlan Create(CrawlOptions options, bool requireOutput, TimeProvider time, AddressBlocklist? blocklist = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var errors = CrawlOptionsValidator.Validate(options, requireOutput, out var parsed);
        if (errors.Count > 0 || parsed is null)
        {
            throw new CrawlOptionsException(errors);
        }

        var policy = new AddressPolicy(blocklist ?? AddressBlocklist.SpecialPurpose, options.AllowLoopback, options.AllowPrivate);
        var result = policy.Apply(parsed.Targets);
        if (result.Allowed.Count == 0)
        {
            throw new TargetsRefusedException([.. result.Refusals.Select(r => r.Message)], result.RefusalsOmitted);
        }

        var targets = TargetSet.From(result.Allowed);
        var host = HostName();
        return new CrawlPlan(
            options,
            new ScanSpace(targets, parsed.Ports.Tcp),
            parsed.Ports,
            parsed.HttpPorts,
            result,
            options.ScanId ?? NewScanId(time),
            options.Scanner ?? $"exposure-crawler/{host}",
            options.Producer ?? $"crawler/{host}");
    }

    private static string HostName()
    {
        var name = Environment.MachineName.ToLowerInvariant();
        return string.IsNullOrEmpty(name) ? "localhost" : name;
    }

    private static string NewScanId(TimeProvider time)
    {
        Span<byte> random = stackalloc byte[4];
        System.Security.Cryptography.RandomNumberGenerator.Fill(random);
        var stamp = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        return $"{stamp}-{Convert.ToHexStringLower(random)}";
    }
}
