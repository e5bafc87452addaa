using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>A target (or part of one) that the policy refuses, with the one-line reason shown to the operator.</summary>
internal sealed record PolicyRefusal(string Token, AddressRange Range, BlockRule Rule, bool WholeTarget)
{
    public string Message
    {
        get
        {
            var what = WholeTarget ? Token : $"{Range} of {Token}";
            return $"refusing {what}: {Rule.Name} ({Rule.Reference}) - {AddressPolicy.Hint(Rule.Category)}";
        }
    }

    public override string ToString() => Message;
}

/// <summary>The targets left after the policy, and what it took away.</summary>
internal sealed record PolicyResult(
    IReadOnlyList<AddressRange> Allowed,
    IReadOnlyList<PolicyRefusal> Refusals,
    int RefusalsOmitted,
    UInt128 RefusedAddresses);

/// <summary>
/// The safety policy (absolute): loopback, private and special-purpose addresses are never scanned unless the
/// operator unlocks exactly the loopback part (AllowLoopback) or the private part (AllowPrivate: RFC 1918, CGNAT,
/// link-local, unique-local). Multicast, broadcast, documentation, reserved and the rest can never be unlocked.
/// </summary>
internal sealed class AddressPolicy(AddressBlocklist blocklist, bool allowLoopback, bool allowPrivate)
{
    public const int MaxListedRefusals = 1000;

    public AddressBlocklist Blocklist { get; } = blocklist;

    public bool AllowLoopback { get; } = allowLoopback;

    public bool AllowPrivate { get; } = allowPrivate;

    public static AddressPolicy Default { get; } = new(AddressBlocklist.SpecialPurpose, allowLoopback: false, allowPrivate: false);

    public static string Hint(AddressCategory category) => category switch
    {
        AddressCategory.Loopback => "pass --allow-loopback to scan it",
        AddressCategory.PrivateUse or AddressCategory.SharedAddressSpace or AddressCategory.LinkLocal or AddressCategory.UniqueLocal
            => "pass --allow-private to scan it",
        AddressCategory.Excluded => "excluded by the operator",
        _ => "this range is never scanned",
    };

    public bool Permits(BlockRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return rule.Category switch
        {
            AddressCategory.Loopback => AllowLoopback,
            AddressCategory.PrivateUse or AddressCategory.SharedAddressSpace or AddressCategory.LinkLocal or AddressCategory.UniqueLocal
                => AllowPrivate,
            _ => false,
        };
    }

    /// <summary>True when <paramref name="address"/> may not be scanned; <paramref name="rule"/> says why.</summary>
    public bool IsRefused(IPAddress address, [NotNullWhen(true)] out BlockRule? rule)
    {
        if (Blocklist.TryFind(address, out var found) && !Permits(found))
        {
            rule = found;
            return true;
        }

        rule = null;
        return false;
    }

    /// <summary>Subtracts every refused piece from the targets. Bounded by targets x overlapping rules.</summary>
    public PolicyResult Apply(IEnumerable<TargetEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var allowed = new List<AddressRange>();
        var refused = new List<AddressRange>();
        var refusals = new List<PolicyRefusal>();
        var omitted = 0;
        foreach (var entry in entries)
        {
            foreach (var (piece, rule) in Blocklist.Split(entry.Range))
            {
                if (rule is null || Permits(rule))
                {
                    allowed.Add(piece);
                    continue;
                }

                refused.Add(piece);
                if (refusals.Count < MaxListedRefusals)
                {
                    refusals.Add(new PolicyRefusal(entry.Token, piece, rule, piece == entry.Range));
                }
                else
                {
                    omitted++;
                }
            }
        }

        return new PolicyResult(allowed, refusals, omitted, TargetSet.From(refused).TotalAddresses);
    }
}
