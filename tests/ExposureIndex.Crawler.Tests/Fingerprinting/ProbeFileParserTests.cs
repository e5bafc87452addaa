using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Fingerprinting.Probes;

namespace ExposureIndex.Crawler.Tests.Fingerprinting;

public sealed class ProbeFileParserTests
{
    private static ProbeFile Parse(string text) => ProbeFileParser.Parse(text.Replace("\r\n", "\n", StringComparison.Ordinal), "test-probes");

    [Fact]
    public void Parse_EveryDirective_IsRead()
    {
        var file = Parse("""
            # comment
            Exclude T:9100-9102,U:30000
            Probe TCP Hello q|HELLO\r\n|
            rarity 3
            ports 25,587,2525-2527
            sslports 465
            totalwaitms 4500
            tcpwrappedms 1500
            fallback Other,NULL
            match smtp m|^220 (\S+) ESMTP Foo ([\d.]+)\r\n| p/Foo smtpd/ v/$2/ i/info/ h/$1/ o/Linux/ d/mail server/ cpe:/a:foo:smtpd:$2/ cpe:/o:linux:linux_kernel/a
            softmatch smtp m=^220 =i
            Probe UDP Ping q|\x01\x02|
            """);

        Assert.Empty(file.Diagnostics);
        Assert.True(file.Excluded.Tcp.Contains(9101));
        Assert.False(file.Excluded.Tcp.Contains(9103));
        Assert.True(file.Excluded.Udp.Contains(30000));
        Assert.Equal(2, file.Probes.Count);
        var hello = file.Probes[0];
        Assert.Equal(ProbeProtocol.Tcp, hello.Protocol);
        Assert.Equal("Hello", hello.Name);
        Assert.Equal("HELLO\r\n"u8.ToArray(), hello.Payload);
        Assert.Equal(3, hello.Rarity);
        Assert.True(hello.Ports.Contains(2526));
        Assert.True(hello.Ports.Contains(587));
        Assert.False(hello.Ports.Contains(465));
        Assert.True(hello.SslPorts.Contains(465));
        Assert.Equal(TimeSpan.FromMilliseconds(4500), hello.TotalWait);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), hello.TcpWrappedWait);
        Assert.Equal(["Other", "NULL"], hello.FallbackNames);
        var match = hello.Matches[0];
        Assert.False(match.IsSoft);
        Assert.Equal("smtp", match.Service);
        Assert.Equal("Foo smtpd", match.Template.Product);
        Assert.Equal("$2", match.Template.Version);
        Assert.Equal("info", match.Template.Info);
        Assert.Equal("$1", match.Template.Hostname);
        Assert.Equal("Linux", match.Template.Os);
        Assert.Equal("mail server", match.Template.DeviceType);
        Assert.Equal(["a:foo:smtpd:$2", "o:linux:linux_kernel"], match.Template.Cpes);
        Assert.Equal(10, match.Line);
        var soft = hello.Matches[1];
        Assert.True(soft.IsSoft);
        Assert.True(soft.IgnoreCase);
        Assert.Equal("^220 ", soft.Pattern);
        Assert.Equal(ProbeProtocol.Udp, file.Probes[1].Protocol);
        Assert.Equal(5, file.Probes[1].Rarity);
    }

    [Theory]
    [InlineData(@"\0", new byte[] { 0 })]
    [InlineData(@"\a\b\f\n\r\t\v", new byte[] { 7, 8, 12, 10, 13, 9, 11 })]
    [InlineData(@"\\", new byte[] { (byte)'\\' })]
    [InlineData(@"\x00\x7f\xFF\xab", new byte[] { 0, 0x7f, 0xff, 0xab })]
    [InlineData(@"a\.b", new byte[] { (byte)'a', (byte)'.', (byte)'b' })]
    [InlineData(@"\05", new byte[] { 0, (byte)'5' })]
    public void Parse_ProbeStringEscapes_DecodeToBytes(string escaped, byte[] expected)
    {
        var file = Parse($"Probe TCP E q|{escaped}|\n");
        Assert.Empty(file.Diagnostics);
        Assert.Equal(expected, Assert.Single(file.Probes).Payload);
    }

    [Fact]
    public void Parse_AnyDelimiter_IsAccepted()
    {
        var file = Parse("""
            Probe TCP D q#a|b#
            match x m=^a|b= p|prod/uct| v{1.0{ cpe:|a:v:p:1.0|
            match y m@x@s i/ok/
            """);
        Assert.Empty(file.Diagnostics);
        var probe = Assert.Single(file.Probes);
        Assert.Equal("a|b"u8.ToArray(), probe.Payload);
        Assert.Equal("^a|b", probe.Matches[0].Pattern);
        Assert.Equal("prod/uct", probe.Matches[0].Template.Product);
        Assert.Equal("1.0", probe.Matches[0].Template.Version);
        Assert.Equal(["a:v:p:1.0"], probe.Matches[0].Template.Cpes);
        Assert.True(probe.Matches[1].DotAll);
    }

    [Fact]
    public void Parse_BadLines_AreReportedWithLineNumbersAndSkipped()
    {
        var file = Parse("""
            match early m|x|
            Probe TCP Good q|x|
            rarity 12
            ports 80,99999
            match bad m|unterminated
            match bad2 m|x|q
            match bad3 m|x| z/what/
            match bad4 m|x| v/$SUBST(1,"a")/
            totalwaitms -5
            Frobnicate yes
            Probe SCTP Nope q|x|
            Probe TCP Broken q|\xZZ|
            match ok m|x|
            """);

        var lines = file.Diagnostics.Select(d => d.Line).ToArray();
        Assert.Equal([1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], lines);
        Assert.All(file.Diagnostics, d => Assert.Equal("test-probes", d.File));
        Assert.Contains("before any Probe", file.Diagnostics[0].Message, StringComparison.Ordinal);
        Assert.Contains("rarity", file.Diagnostics[1].Message, StringComparison.Ordinal);
        Assert.Contains("99999", file.Diagnostics[2].Message, StringComparison.Ordinal);
        Assert.Contains("not closed", file.Diagnostics[3].Message, StringComparison.Ordinal);
        Assert.Contains("unknown pattern option", file.Diagnostics[4].Message, StringComparison.Ordinal);
        Assert.Contains("unknown version field", file.Diagnostics[5].Message, StringComparison.Ordinal);
        Assert.Contains("$SUBST", file.Diagnostics[6].Message, StringComparison.Ordinal);
        Assert.Contains("unknown directive 'Frobnicate'", file.Diagnostics[8].Message, StringComparison.Ordinal);
        Assert.Contains("TCP or UDP", file.Diagnostics[9].Message, StringComparison.Ordinal);
        Assert.Contains("hex", file.Diagnostics[10].Message, StringComparison.Ordinal);
        // The good probe survives; lines after a broken Probe line have no probe to attach to.
        var good = Assert.Single(file.Probes);
        Assert.Equal("Good", good.Name);
        Assert.Equal(5, good.Rarity);
        Assert.Equal("test-probes:5: match: the pattern is not closed with '|'", file.Diagnostics[3].ToString());
    }

    [Fact]
    public void CompileAll_UntranslatablePattern_IsReportedWithItsLine()
    {
        var catalog = ProbeCatalog.Load([Parse("Probe TCP P q|x|\nmatch a m|(unclosed|\nmatch b m|fine|\n")]);
        var error = Assert.Single(catalog.CompileAll());
        Assert.Equal(2, error.Line);
        Assert.Contains("match a", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TwoFiles_MergeSameProbesAndResolveFallbacks()
    {
        var ours = ProbeFileParser.Parse("Probe TCP NULL q||\nmatch a m|^A| p/ours/\nProbe TCP Get q|GET|\nfallback Other\nProbe TCP Other q|O|\n", "ours");
        var theirs = ProbeFileParser.Parse("Probe TCP NULL q||\nmatch a m|^A| p/theirs/\nmatch b m|^B|\nProbe TCP Get q|GET2|\nfallback Nope\n", "theirs");
        var catalog = ProbeCatalog.Load([ours, theirs]);

        Assert.Equal(["a", "a", "b"], catalog.Null!.Matches.Select(m => m.Service));
        Assert.Equal("ours", catalog.Null.Matches[0].Template.Product);
        Assert.Equal(2, catalog.Tcp.Count(p => p.Name == "Get"));
        Assert.Equal("Other", Assert.Single(catalog.Tcp.First(p => p.File == "ours" && p.Name == "Get").Fallbacks).Name);
        var missing = Assert.Single(catalog.Diagnostics);
        Assert.Equal("theirs", missing.File);
        Assert.Contains("unknown probe 'Nope'", missing.Message, StringComparison.Ordinal);
    }
}
