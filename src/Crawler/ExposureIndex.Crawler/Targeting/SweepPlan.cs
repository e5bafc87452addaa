using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ExposureIndex.Crawler.Options;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>What to sweep, as the operator gave it: the inputs of <see cref="SweepPlan.Create"/>.</summary>
internal sealed record SweepRequest
{
    /// <summary>Targets in <see cref="TargetParser"/> syntax (addresses, CIDR, ranges, @files).</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];

    /// <summary>nmap <c>-p</c> syntax plus the named sets <c>top100</c> and <c>top1000</c>.</summary>
    public string Ports { get; init; } = "top100";

    public bool AllowLoopback { get; init; }

    public bool AllowPrivate { get; init; }

    /// <summary>Files of addresses, CIDR blocks or ranges never to scan (<c>--exclude FILE</c>).</summary>
    public IReadOnlyList<string> ExcludeFiles { get; init; } = [];

    /// <summary>The permutation seed; a fresh random one when null (then only one shard is allowed).</summary>
    public ulong? Seed { get; init; }

    public ShardSpec Shard { get; init; } = ShardSpec.Single;
}

/// <summary>
/// A sweep ready to run: the target space after the address policy and exclusions, the seeded order of this
/// shard, and a hash that identifies the plan (targets, ports, seed, shard), so a checkpoint written for one
/// plan is never resumed against another.
/// </summary>
internal sealed class SweepPlan
{
    public SweepPlan(TargetSpace space, PolicyResult policy, ulong seed, ShardSpec shard)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(policy);
        Space = space;
        Policy = policy;
        Order = new SweepOrder(space, seed, shard);
        Hash = ComputeHash(space, seed, shard);
    }

    public TargetSpace Space { get; }

    public PolicyResult Policy { get; }

    public SweepOrder Order { get; }

    public ulong Seed => Order.Seed;

    public ShardSpec Shard => Order.Shard;

    /// <summary>Hex SHA-256 of the canonical plan text (<see cref="CanonicalText"/>).</summary>
    public string Hash { get; }

    /// <summary>
    /// Parses and checks <paramref name="request"/>, reporting every problem at once
    /// (<see cref="CrawlOptionsException"/>), applies the special-purpose blocklist, the allow flags and the
    /// exclusions, and refuses a target list that is refused as a whole (<see cref="TargetsRefusedException"/>)
    /// before anything is sent.
    /// </summary>
    public static SweepPlan Create(SweepRequest request, AddressBlocklist? baseBlocklist = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new List<OptionError>();
        var specErrors = new List<SpecError>();
        var entries = new List<TargetEntry>();
        if (request.Targets is null || request.Targets.All(string.IsNullOrWhiteSpace))
        {
            errors.Add(new("Targets", "at least one target is required"));
        }
        else
        {
            entries = TargetParser.Parse(request.Targets, specErrors);
            errors.AddRange(specErrors.Select(e => new OptionError("Targets", e.ToString())));
            if (specErrors.Count == 0 && entries.Count == 0)
            {
                errors.Add(new("Targets", "at least one target is required (the given targets and files hold none)"));
            }
        }

        var portErrors = new List<SpecError>();
        var ports = PortSpecParser.Parse(request.Ports, "ports", portErrors);
        errors.AddRange(portErrors.Select(e => new OptionError("Ports", e.ToString())));

        var excludeErrors = new List<SpecError>();
        var excluded = ExcludeFileParser.Parse(request.ExcludeFiles ?? [], excludeErrors);
        errors.AddRange(excludeErrors.Select(e => new OptionError("Exclude", e.ToString())));

        var shard = request.Shard;
        if (shard.Count < 1 || shard.Count > ShardSpec.MaxShards || shard.Index < 0 || shard.Index >= shard.Count)
        {
            errors.Add(new("Shard", $"shard {shard} must be K/N with 0 <= K < N <= {ShardSpec.MaxShards}"));
        }
        else if (shard.Count > 1 && request.Seed is null)
        {
            errors.Add(new("Seed", "a sharded sweep needs an explicit seed: every shard must use the same one, or the shards overlap"));
        }

        if (ports is not null && entries.Count > 0)
        {
            var addresses = TargetSet.From(entries.Select(e => e.Range)).TotalAddresses;
            var slots = (uint)(ports.Tcp.Count + ports.Udp.Count);
            if (addresses * slots > ulong.MaxValue)
            {
                errors.Add(new("Targets", $"{addresses} addresses x {slots} ports do not fit a 64-bit index; split the scan"));
            }
        }

        if (errors.Count > 0 || ports is null)
        {
            throw new CrawlOptionsException(errors);
        }

        var blocklist = (baseBlocklist ?? AddressBlocklist.SpecialPurpose).With(excluded);
        var policy = new AddressPolicy(blocklist, request.AllowLoopback, request.AllowPrivate).Apply(entries);
        if (policy.Allowed.Count == 0)
        {
            throw new TargetsRefusedException([.. policy.Refusals.Select(r => r.Message)], policy.RefusalsOmitted);
        }

        var space = new TargetSpace(TargetSet.From(policy.Allowed), ports);
        return new SweepPlan(space, policy, request.Seed ?? NewSeed(), shard);
    }

    public static ulong NewSeed()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return BitConverter.ToUInt64(bytes);
    }

    /// <summary>
    /// The plan as text: format version, every target range, the TCP and UDP ports, seed and shard. Stable:
    /// changing it invalidates every checkpoint in the field, so it is guarded by a golden test.
    /// </summary>
    public static string CanonicalText(TargetSpace space, ulong seed, ShardSpec shard)
    {
        ArgumentNullException.ThrowIfNull(space);
        var text = new StringBuilder();
        text.Append("exposure-sweep-plan v1\n");
        foreach (var range in space.Targets.Ranges)
        {
            text.Append(CultureInfo.InvariantCulture, $"range {(range.Family == System.Net.Sockets.AddressFamily.InterNetwork ? 4 : 6)} {range.First:x} {range.Last:x}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"tcp {space.Ports.Tcp}\nudp {space.Ports.Udp}\nseed {seed}\nshard {shard}\n");
        return text.ToString();
    }

    private static string ComputeHash(TargetSpace space, ulong seed, ShardSpec shard)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalText(space, seed, shard))));
}
