namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// The default blocklist, as data. Sources: the IANA IPv4 and IPv6 Special-Purpose Address Registries
/// (RFC 6890, updated by RFC 8190), the IPv4 multicast registry (RFC 5771) and the IPv6 addressing
/// architecture (RFC 4291). Where a registry block has globally reachable children (e.g. PCP anycast inside
/// 192.0.0.0/24, AS112-v6 inside 2001::/23) the whole block stays blocked: it holds no services worth indexing,
/// and the conservative choice matches zmap's default blocklist. The narrowest entry wins on overlap.
/// </summary>
internal static class SpecialPurposeRanges
{
    public static IReadOnlyList<BlockRule> IPv4 { get; } =
    [
        BlockRule.Prefix("0.0.0.0/8", AddressCategory.ThisNetwork, "this network", "RFC 791 §3.2"),
        BlockRule.Prefix("0.0.0.0/32", AddressCategory.ThisNetwork, "this host on this network", "RFC 1122 §3.2.1.3"),
        BlockRule.Prefix("10.0.0.0/8", AddressCategory.PrivateUse, "private-use", "RFC 1918"),
        BlockRule.Prefix("100.64.0.0/10", AddressCategory.SharedAddressSpace, "shared address space (carrier-grade NAT)", "RFC 6598"),
        BlockRule.Prefix("127.0.0.0/8", AddressCategory.Loopback, "loopback", "RFC 1122"),
        BlockRule.Prefix("169.254.0.0/16", AddressCategory.LinkLocal, "link-local", "RFC 3927"),
        BlockRule.Prefix("172.16.0.0/12", AddressCategory.PrivateUse, "private-use", "RFC 1918"),
        BlockRule.Prefix("192.0.0.0/24", AddressCategory.Reserved, "IETF protocol assignments", "RFC 6890 §2.1"),
        BlockRule.Prefix("192.0.2.0/24", AddressCategory.Documentation, "documentation (TEST-NET-1)", "RFC 5737"),
        BlockRule.Prefix("192.88.99.0/24", AddressCategory.Reserved, "deprecated 6to4 relay anycast", "RFC 7526"),
        BlockRule.Prefix("192.168.0.0/16", AddressCategory.PrivateUse, "private-use", "RFC 1918"),
        BlockRule.Prefix("198.18.0.0/15", AddressCategory.Benchmarking, "benchmarking", "RFC 2544"),
        BlockRule.Prefix("198.51.100.0/24", AddressCategory.Documentation, "documentation (TEST-NET-2)", "RFC 5737"),
        BlockRule.Prefix("203.0.113.0/24", AddressCategory.Documentation, "documentation (TEST-NET-3)", "RFC 5737"),
        BlockRule.Prefix("224.0.0.0/4", AddressCategory.Multicast, "multicast", "RFC 5771"),
        BlockRule.Prefix("240.0.0.0/4", AddressCategory.Reserved, "reserved for future use", "RFC 1112 §4"),
        BlockRule.Prefix("255.255.255.255/32", AddressCategory.Broadcast, "limited broadcast", "RFC 919 §7"),
    ];

    public static IReadOnlyList<BlockRule> IPv6 { get; } =
    [
        // Everything outside 2000::/3 is unassigned or special (RFC 4291 §2.4); the entries below name the parts.
        BlockRule.Prefix("::/3", AddressCategory.Reserved, "outside global unicast 2000::/3", "RFC 4291 §2.4"),
        BlockRule.Prefix("4000::/2", AddressCategory.Reserved, "outside global unicast 2000::/3", "RFC 4291 §2.4"),
        BlockRule.Prefix("8000::/1", AddressCategory.Reserved, "outside global unicast 2000::/3", "RFC 4291 §2.4"),
        BlockRule.Prefix("::/128", AddressCategory.ThisNetwork, "unspecified address", "RFC 4291 §2.5.2"),
        BlockRule.Prefix("::1/128", AddressCategory.Loopback, "loopback", "RFC 4291 §2.5.3"),
        BlockRule.Prefix("::ffff:0:0/96", AddressCategory.Translation, "IPv4-mapped address (scan the IPv4 address itself)", "RFC 4291 §2.5.5.2"),
        BlockRule.Prefix("64:ff9b::/96", AddressCategory.Translation, "NAT64 well-known prefix (scan the IPv4 address itself)", "RFC 6052"),
        BlockRule.Prefix("64:ff9b:1::/48", AddressCategory.Translation, "local-use IPv4/IPv6 translation", "RFC 8215"),
        BlockRule.Prefix("100::/64", AddressCategory.Reserved, "discard-only", "RFC 6666"),
        BlockRule.Prefix("100:0:0:1::/64", AddressCategory.Reserved, "dummy IPv6 prefix", "RFC 9780"),
        BlockRule.Prefix("2001::/23", AddressCategory.Reserved, "IETF protocol assignments (incl. Teredo)", "RFC 2928"),
        BlockRule.Prefix("2001:2::/48", AddressCategory.Benchmarking, "benchmarking", "RFC 5180"),
        BlockRule.Prefix("2001:db8::/32", AddressCategory.Documentation, "documentation", "RFC 3849"),
        BlockRule.Prefix("2002::/16", AddressCategory.Translation, "6to4 (scan the IPv4 address itself)", "RFC 3056"),
        BlockRule.Prefix("3fff::/20", AddressCategory.Documentation, "documentation", "RFC 9637"),
        BlockRule.Prefix("5f00::/16", AddressCategory.Reserved, "segment routing (SRv6) SIDs", "RFC 9602"),
        BlockRule.Prefix("fc00::/7", AddressCategory.UniqueLocal, "unique-local", "RFC 4193"),
        BlockRule.Prefix("fe80::/10", AddressCategory.LinkLocal, "link-local", "RFC 4291 §2.5.6"),
        BlockRule.Prefix("fec0::/10", AddressCategory.Reserved, "deprecated site-local", "RFC 3879"),
        BlockRule.Prefix("ff00::/8", AddressCategory.Multicast, "multicast", "RFC 4291 §2.7"),
    ];

    public static IReadOnlyList<BlockRule> All { get; } = [.. IPv4, .. IPv6];
}
