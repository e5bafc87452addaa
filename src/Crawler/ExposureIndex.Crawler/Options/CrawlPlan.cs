using System.Globalization;
using ExposureIndex.Crawler.Checkpointing;
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

/// <summary>
/// Valid options turned into what the engine runs: the sweep (targets after the address policy and the operator's
/// exclusions, times the ports, in this shard's seeded order), the HTTP ports, and the names stamped on records.
/// </summary>
internal sealed record CrawlPlan(
    CrawlOptions Options,
    SweepPlan Sweep,
    PortSet HttpPorts,
    string ScanId,
    string Scanner,
    string Producer)
{
    public TargetSpace Space => Sweep.Space;

    public PolicyResult Policy => Sweep.Policy;

    public TargetSet Targets => Space.Targets;

    public PortSpec Ports => Space.Ports;

    /// <summary>UDP ip:port pairs named by the port spec but not probed: none since UDP probing (kept for the summary's shape).</summary>
    public ulong UdpNotProbed => 0;

    /// <summary>The ip:port/transport triples this run's shard visits (all of them for an unsharded crawl).</summary>
    public ulong TotalPairs => Sweep.Order.Count;

    /// <summary>
    /// Validates and plans; throws <see cref="CrawlOptionsException"/> or <see cref="TargetsRefusedException"/>. The seed
    /// and scan id come from the options, else from the checkpoint being resumed, else they are new.
    /// </summary>
    public static CrawlPlan Create(CrawlOptions options, bool requireOutput, TimeProvider time, AddressBlocklist? blocklist = null, SweepCheckpoint? resumed = null)
        => Build(options, Validate(options, requireOutput), time, blocklist, resumed);

    /// <summary>Every problem with the options at once (<see cref="CrawlOptionsException"/>), else their parsed specifications.</summary>
    public static ParsedSpecs Validate(CrawlOptions options, bool requireOutput)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = CrawlOptionsValidator.Validate(options, requireOutput, out var parsed);
        if (errors.Count > 0 || parsed is null)
        {
            throw new CrawlOptionsException(errors);
        }

        return parsed;
    }

    /// <summary>Plans from validated options; throws <see cref="TargetsRefusedException"/> when the policy refuses every target.</summary>
    public static CrawlPlan Build(CrawlOptions options, ParsedSpecs parsed, TimeProvider time, AddressBlocklist? blocklist = null, SweepCheckpoint? resumed = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(time);
        // The operator's exclusions join the special-purpose ranges; no flag unlocks them (AddressCategory.Excluded).
        var policy = new AddressPolicy((blocklist ?? AddressBlocklist.SpecialPurpose).With(parsed.Exclusions), options.AllowLoopback, options.AllowPrivate);
        var result = policy.Apply(parsed.Targets);
        if (result.Allowed.Count == 0)
        {
            throw new TargetsRefusedException([.. result.Refusals.Select(r => r.Message)], result.RefusalsOmitted);
        }

        var space = new TargetSpace(TargetSet.From(result.Allowed), parsed.Ports);
        var seed = options.Seed ?? resumed?.Seed ?? SweepPlan.NewSeed();
        var host = HostName();
        return new CrawlPlan(
            options,
            new SweepPlan(space, result, seed, parsed.Shard),
            parsed.HttpPorts,
            options.ScanId ?? resumed?.ScanId ?? NewScanId(time),
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
