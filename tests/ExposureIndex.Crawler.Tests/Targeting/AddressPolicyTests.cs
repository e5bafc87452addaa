using System.Net;
using System.Net.Sockets;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Tests.Targeting;

public sealed class AddressPolicyTests
{
    private static readonly AddressPolicy Strict = new(AddressBlocklist.SpecialPurpose, allowLoopback: false, allowPrivate: false);
    private static readonly AddressPolicy Loopback = new(AddressBlocklist.SpecialPurpose, allowLoopback: true, allowPrivate: false);
    private static readonly AddressPolicy Private = new(AddressBlocklist.SpecialPurpose, allowLoopback: false, allowPrivate: true);
    private static readonly AddressPolicy Both = new(AddressBlocklist.SpecialPurpose, allowLoopback: true, allowPrivate: true);

    public static TheoryData<string> EveryRule => [.. SpecialPurposeRanges.All.Select(r => r.Range.ToString())];

    [Theory]
    [MemberData(nameof(EveryRule))]
    public void IsRefused_EverySpecialPurposeRange_RefusedAtBothEndsWithoutFlags(string prefix)
    {
        var rule = SpecialPurposeRanges.All.Single(r => r.Range.ToString() == prefix);
        foreach (var key in new[] { rule.Range.First, rule.Range.Last, rule.Range.First + (rule.Range.Last - rule.Range.First) / 2 })
        {
            var address = AddressRange.ToAddress(rule.Family, key);
            Assert.True(Strict.IsRefused(address, out var found), $"{address} ({rule}) must be refused");
            // The rule that answers is this one or a narrower one nested inside it.
            Assert.True(found.Range.First >= rule.Range.First && found.Range.Last <= rule.Range.Last, $"{address}: {found} is not inside {rule}");
        }
    }

    [Theory]
    [MemberData(nameof(EveryRule))]
    public void IsRefused_EverySpecialPurposeRange_FlagsUnlockExactlyTheirCategories(string prefix)
    {
        var rule = SpecialPurposeRanges.All.Single(r => r.Range.ToString() == prefix);
        var address = AddressRange.ToAddress(rule.Family, rule.Range.Last);
        Assert.True(AddressBlocklist.SpecialPurpose.TryFind(address, out var found));
        var isLoopback = found.Category == AddressCategory.Loopback;
        var isPrivate = found.Category is AddressCategory.PrivateUse or AddressCategory.SharedAddressSpace or AddressCategory.LinkLocal or AddressCategory.UniqueLocal;
        Assert.Equal(!isLoopback, Loopback.IsRefused(address, out _));
        Assert.Equal(!isPrivate, Private.IsRefused(address, out _));
        Assert.Equal(!(isLoopback || isPrivate), Both.IsRefused(address, out _));
    }

    [Theory]
    [InlineData("127.0.0.1", "Loopback")]
    [InlineData("127.255.255.255", "Loopback")]
    [InlineData("::1", "Loopback")]
    [InlineData("10.0.0.1", "PrivateUse")]
    [InlineData("172.16.0.1", "PrivateUse")]
    [InlineData("172.31.255.255", "PrivateUse")]
    [InlineData("192.168.1.1", "PrivateUse")]
    [InlineData("100.64.0.1", "SharedAddressSpace")]
    [InlineData("100.127.255.255", "SharedAddressSpace")]
    [InlineData("169.254.1.1", "LinkLocal")]
    [InlineData("fe80::1", "LinkLocal")]
    [InlineData("febf:ffff::1", "LinkLocal")]
    [InlineData("fc00::1", "UniqueLocal")]
    [InlineData("fdff:ffff::1", "UniqueLocal")]
    [InlineData("224.0.0.1", "Multicast")]
    [InlineData("239.255.255.250", "Multicast")]
    [InlineData("ff02::1", "Multicast")]
    [InlineData("255.255.255.255", "Broadcast")]
    [InlineData("0.0.0.0", "ThisNetwork")]
    [InlineData("0.1.2.3", "ThisNetwork")]
    [InlineData("::", "ThisNetwork")]
    [InlineData("192.0.2.1", "Documentation")]
    [InlineData("198.51.100.1", "Documentation")]
    [InlineData("203.0.113.255", "Documentation")]
    [InlineData("2001:db8::1", "Documentation")]
    [InlineData("3fff:fff::1", "Documentation")]
    [InlineData("198.18.0.1", "Benchmarking")]
    [InlineData("198.19.255.255", "Benchmarking")]
    [InlineData("2001:2::1", "Benchmarking")]
    [InlineData("240.0.0.1", "Reserved")]
    [InlineData("255.255.255.254", "Reserved")]
    [InlineData("192.0.0.9", "Reserved")]
    [InlineData("192.88.99.1", "Reserved")]
    [InlineData("100::1", "Reserved")]
    [InlineData("2001::1", "Reserved")]
    [InlineData("5f00::1", "Reserved")]
    [InlineData("fec0::1", "Reserved")]
    [InlineData("::2", "Reserved")]
    [InlineData("1fff:ffff::1", "Reserved")]
    [InlineData("4000::1", "Reserved")]
    [InlineData("::ffff:127.0.0.1", "Translation")]
    [InlineData("::ffff:8.8.8.8", "Translation")]
    [InlineData("64:ff9b::808:808", "Translation")]
    [InlineData("2002:c000:201::1", "Translation")]
    public void IsRefused_SpecialAddress_HasExpectedCategory(string text, string categoryName)
    {
        var category = Enum.Parse<AddressCategory>(categoryName);
        Assert.True(Strict.IsRefused(IPAddress.Parse(text), out var rule));
        Assert.Equal(category, rule.Category);
        var unlockable = category is AddressCategory.Loopback or AddressCategory.PrivateUse or AddressCategory.SharedAddressSpace
            or AddressCategory.LinkLocal or AddressCategory.UniqueLocal;
        Assert.Equal(!unlockable, Both.IsRefused(IPAddress.Parse(text), out _));
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("1.0.0.0")]
    [InlineData("9.255.255.255")]
    [InlineData("11.0.0.0")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.0")]
    [InlineData("126.255.255.255")]
    [InlineData("128.0.0.0")]
    [InlineData("169.253.255.255")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.0")]
    [InlineData("192.0.1.255")]
    [InlineData("192.0.3.0")]
    [InlineData("192.31.196.1")]
    [InlineData("192.167.255.255")]
    [InlineData("192.169.0.0")]
    [InlineData("198.17.255.255")]
    [InlineData("198.20.0.0")]
    [InlineData("223.255.255.255")]
    [InlineData("2606:4700::1111")]
    [InlineData("2a00:1450:4001::1")]
    [InlineData("2000::1")]
    [InlineData("2001:200::1")]
    [InlineData("2001:db7:ffff::1")]
    [InlineData("3ffe::1")]
    [InlineData("3fff:1000::1")]
    public void IsRefused_PublicAddress_IsAllowed(string text)
    {
        Assert.False(Strict.IsRefused(IPAddress.Parse(text), out var rule), $"{text} refused by {rule}");
    }

    [Fact]
    public void Apply_WholeTargetRefused_MessageNamesRuleAndFlag()
    {
        var result = Strict.Apply([Entry("127.0.0.1")]);
        Assert.Empty(result.Allowed);
        Assert.Equal("refusing 127.0.0.1: loopback (RFC 1122) - pass --allow-loopback to scan it", Assert.Single(result.Refusals).Message);
        Assert.Equal((UInt128)1, result.RefusedAddresses);
    }

    [Theory]
    [InlineData("10.1.2.3", "refusing 10.1.2.3: private-use (RFC 1918) - pass --allow-private to scan it")]
    [InlineData("fe80::1", "refusing fe80::1: link-local (RFC 4291 §2.5.6) - pass --allow-private to scan it")]
    [InlineData("192.0.2.0/24", "refusing 192.0.2.0/24: documentation (TEST-NET-1) (RFC 5737) - this range is never scanned")]
    [InlineData("224.0.0.1", "refusing 224.0.0.1: multicast (RFC 5771) - this range is never scanned")]
    public void Apply_RefusedTarget_OneLineMessage(string token, string message)
    {
        var refusal = Assert.Single(Strict.Apply([Entry(token)]).Refusals);
        Assert.Equal(message, refusal.Message);
        Assert.DoesNotContain('\n', refusal.Message);
    }

    [Fact]
    public void Apply_PartlyRefusedRange_KeepsTheRestAndNamesThePiece()
    {
        var result = Strict.Apply([Entry("126.0.0.0-128.255.255.255")]);
        var allowed = TargetSet.From(result.Allowed);
        Assert.Equal(["126.0.0.0/8", "128.0.0.0/8"], allowed.Ranges.Select(r => r.ToString()));
        Assert.Equal("refusing 127.0.0.0/8 of 126.0.0.0-128.255.255.255: loopback (RFC 1122) - pass --allow-loopback to scan it",
            Assert.Single(result.Refusals).Message);
    }

    [Fact]
    public void Apply_WholeIPv4Space_LeavesExactlyTheGlobalPart()
    {
        var result = Strict.Apply([Entry("0.0.0.0/0")]);
        // 2^32 minus 0/8, 10/8, 127/8, 100.64/10, 169.254/16, 172.16/12, 192.168/16, 198.18/15,
        // five /24s (192.0.0, 192.0.2, 192.88.99, 198.51.100, 203.0.113), 224/4 and 240/4.
        const ulong blocked = (3UL << 24) + (1UL << 22) + (1UL << 16) + (1UL << 20) + (1UL << 16) + (1UL << 17) + (5UL << 8) + (2UL << 28);
        Assert.Equal((UInt128)blocked, result.RefusedAddresses);
        Assert.Equal((UInt128)((1UL << 32) - blocked), TargetSet.From(result.Allowed).TotalAddresses);
    }

    [Fact]
    public void Apply_WithAllowLoopback_KeepsLoopbackOnly()
    {
        var result = Loopback.Apply([Entry("127.0.0.1"), Entry("::1"), Entry("10.0.0.1")]);
        Assert.Equal(["127.0.0.1", "::1"], TargetSet.From(result.Allowed).Ranges.Select(r => r.ToString()));
        Assert.Equal("10.0.0.1", Assert.Single(result.Refusals).Token);
    }

    [Fact]
    public void Plan_EveryTargetRefused_ThrowsOneLineNamingTheRule()
    {
        var options = new CrawlOptions { Targets = ["127.0.0.1"], Ports = "22" };
        var e = Assert.Throws<TargetsRefusedException>(() => CrawlPlan.Create(options, requireOutput: false, TimeProvider.System));
        Assert.Equal("refusing 127.0.0.1: loopback (RFC 1122) - pass --allow-loopback to scan it", e.Message);
    }

    [Fact]
    public void Plan_SeveralTargetsAllRefused_CountsTheRest()
    {
        var options = new CrawlOptions { Targets = ["127.0.0.1 10.0.0.1 224.0.0.1"], Ports = "22", AllowLoopback = false };
        var e = Assert.Throws<TargetsRefusedException>(() => CrawlPlan.Create(options, requireOutput: false, TimeProvider.System));
        Assert.Equal("refusing 127.0.0.1: loopback (RFC 1122) - pass --allow-loopback to scan it (and 2 more refused targets)", e.Message);
        Assert.Equal(3, e.Refusals.Count);
    }

    [Fact]
    public void Plan_SomeTargetsRefused_ScansTheRestAndReportsThem()
    {
        var options = new CrawlOptions { Targets = ["8.8.8.8", "192.168.0.0/16", "2001:db8::1"], Ports = "22,80" };
        var plan = CrawlPlan.Create(options, requireOutput: false, TimeProvider.System);
        Assert.Equal((UInt128)1, plan.Targets.TotalAddresses);
        Assert.Equal(2UL, plan.Space.Count);
        Assert.Equal(2, plan.Policy.Refusals.Count);
        Assert.Equal((UInt128)65537, plan.Policy.RefusedAddresses);
    }

    [Fact]
    public void IntervalMap_OverlappingEntries_NarrowestWinsAndTiesGoFirst()
    {
        var map = IntervalMap<string>.Build([(0, 99, "wide"), (10, 19, "mid"), (15, 16, "narrow"), (50, 59, "first"), (50, 59, "second"), (95, 120, "overlap")], 255);
        Assert.True(map.TryFind(5, out var v) && v == "wide");
        Assert.True(map.TryFind(12, out v) && v == "mid");
        Assert.True(map.TryFind(15, out v) && v == "narrow");
        Assert.True(map.TryFind(17, out v) && v == "mid");
        Assert.True(map.TryFind(55, out v) && v == "first");
        Assert.True(map.TryFind(96, out v) && v == "overlap");
        Assert.True(map.TryFind(120, out v) && v == "overlap");
        Assert.False(map.TryFind(121, out _));
        Assert.False(map.TryFind(255, out _));
    }

    [Fact]
    public void IntervalMap_RandomEntries_MatchesBruteForce()
    {
        var random = new Random(20240601);
        for (var round = 0; round < 50; round++)
        {
            var entries = Enumerable.Range(0, random.Next(1, 12)).Select(i =>
            {
                var a = (UInt128)random.Next(0, 256);
                var b = (UInt128)random.Next(0, 256);
                return (First: a < b ? a : b, Last: a < b ? b : a, Value: i);
            }).ToList();
            var map = IntervalMap<int>.Build(entries, 255);
            for (var key = 0; key < 256; key++)
            {
                var expected = entries.Where(e => e.First <= (UInt128)key && (UInt128)key <= e.Last)
                    .OrderBy(e => e.Last - e.First).ThenBy(e => e.Value).Select(e => (int?)e.Value).FirstOrDefault();
                var found = map.TryFind((UInt128)key, out var value);
                Assert.Equal(expected, found ? value : null);
            }
        }
    }

    [Fact]
    public void Split_CoversTheRangeExactlyInOrder()
    {
        var range = AddressRange.ParsePrefix("0.0.0.0/0");
        var pieces = AddressBlocklist.SpecialPurpose.Split(range).ToList();
        Assert.Equal(range.First, pieces[0].Piece.First);
        Assert.Equal(range.Last, pieces[^1].Piece.Last);
        for (var i = 1; i < pieces.Count; i++)
        {
            Assert.Equal(pieces[i - 1].Piece.Last + 1, pieces[i].Piece.First);
        }
    }

    [Fact]
    public void Split_IPv6RangeInsideOneRule_IsOnePiece()
    {
        var range = AddressRange.ParsePrefix("2001:db8::/112");
        var piece = Assert.Single(AddressBlocklist.SpecialPurpose.Split(range));
        Assert.Equal(range, piece.Piece);
        Assert.Equal(AddressCategory.Documentation, piece.Rule!.Category);
        Assert.Equal(AddressFamily.InterNetworkV6, piece.Piece.Family);
    }

    private static TargetEntry Entry(string token)
    {
        Assert.True(TargetParser.TryParseToken(token, out var range, out var error), error);
        return new TargetEntry(range, token);
    }
}
