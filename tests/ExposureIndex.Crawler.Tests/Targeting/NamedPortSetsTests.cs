using System.Security.Cryptography;
using System.Text;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Tests.Targeting;

public sealed class NamedPortSetsTests
{
    [Fact]
    public void Top100_HoldsOneHundredDistinctValidPorts()
    {
        Assert.Equal(100, NamedPortSets.Top100.Count);
        Assert.Equal(100, NamedPortSets.Top100.Distinct().Count());
        Assert.All(NamedPortSets.Top100, p => Assert.InRange(p, 1, 65535));
        Assert.Equal(100, NamedPortSets.ByName["top100"].Count);
    }

    [Fact]
    public void Top1000_HoldsOneThousandPortsIncludingTop100()
    {
        var top1000 = NamedPortSets.ByName["top1000"];
        Assert.Equal(1000, top1000.Count);
        Assert.All(NamedPortSets.Top100, p => Assert.True(top1000.Contains(p), $"top1000 lacks top100 port {p}"));
        Assert.Equal(NamedPortSets.Top100, NamedPortSets.Top1000Ranked.Take(100));
        Assert.All(NamedPortSets.Extended, p => Assert.InRange(p, 1, 65535));
    }

    [Fact]
    public void Lists_Golden_ChangeOnlyOnPurpose()
    {
        // A changed list changes every plan hash (and so refuses old checkpoints): update this on purpose only.
        static string Hash(IEnumerable<int> ports) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(string.Join(',', ports))))[..16];
        Assert.Equal("80,443,22,8080,21,25,3389,8443,23,53", string.Join(',', NamedPortSets.Top100.Take(10)));
        Assert.Equal("15c81367c98dc57e", Hash(NamedPortSets.Top100));
        Assert.Equal("8c4f85e8a481f726", Hash(NamedPortSets.Top1000Ranked));
    }

    [Theory]
    [InlineData("top100", 100, 0)]
    [InlineData("TOP100", 100, 0)]
    [InlineData("top1000", 1000, 0)]
    [InlineData("top100,U:53,161", 100, 2)]
    [InlineData("T:top100,9999", 101, 0)]
    [InlineData("top100,top1000", 1000, 0)]
    public void PortSpecParser_NamedSets_Expand(string spec, int tcp, int udp)
    {
        var errors = new List<SpecError>();
        var ports = PortSpecParser.Parse(spec, "ports", errors);
        Assert.Empty(errors);
        Assert.Equal(tcp, ports!.Tcp.Count);
        Assert.Equal(udp, ports.Udp.Count);
    }

    [Theory]
    [InlineData("U:top100", "named port sets are TCP lists")]
    [InlineData("top10", "named set (top100, top1000)")]
    public void PortSpecParser_BadNamedSet_SaysWhy(string spec, string expected)
    {
        var errors = new List<SpecError>();
        Assert.Null(PortSpecParser.Parse(spec, "ports", errors));
        Assert.Contains(errors, e => e.Message.Contains(expected, StringComparison.Ordinal));
    }
}
