using System.Net.Sockets;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>Why an address range is not scanned by default. Only the first five can be unlocked, by two flags.</summary>
internal enum AddressCategory
{
    /// <summary>127.0.0.0/8, ::1. Unlocked by AllowLoopback.</summary>
    Loopback = 1,

    /// <summary>RFC 1918. Unlocked by AllowPrivate.</summary>
    PrivateUse = 2,

    /// <summary>RFC 6598 shared address space (carrier-grade NAT). Unlocked by AllowPrivate.</summary>
    SharedAddressSpace = 3,

    /// <summary>169.254.0.0/16, fe80::/10. Unlocked by AllowPrivate.</summary>
    LinkLocal = 4,

    /// <summary>fc00::/7. Unlocked by AllowPrivate.</summary>
    UniqueLocal = 5,

    Multicast = 10,
    Broadcast = 11,
    ThisNetwork = 12,
    Documentation = 13,
    Benchmarking = 14,
    Translation = 15,
    Reserved = 16,

    /// <summary>Listed by the operator (--exclude, a later issue); never unlocked.</summary>
    Excluded = 20,
}

/// <summary>One blocklist entry: a range, why it is blocked, and the document that says so.</summary>
internal sealed record BlockRule(AddressRange Range, AddressCategory Category, string Name, string Reference)
{
    public static BlockRule Prefix(string cidr, AddressCategory category, string name, string reference)
        => new(AddressRange.ParsePrefix(cidr), category, name, reference);

    public AddressFamily Family => Range.Family;

    public override string ToString() => $"{Range} {Name} ({Reference})";
}
