using System.Text.RegularExpressions;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Fingerprinting.Probes;

namespace ExposureIndex.Crawler.Tests.Fingerprinting;

public sealed class VersionTemplateTests
{
    private static string Expand(string template, string pattern, string input)
    {
        var match = Regex.Match(input, pattern, RegexOptions.Singleline, TimeSpan.FromSeconds(1));
        Assert.True(match.Success);
        Assert.True(VersionTemplate.TryExpand(template, match, out var value, out var error), error);
        return value;
    }

    [Fact]
    public void TryExpand_Groups_AreSubstituted()
        => Assert.Equal("v 2.4 on web1 ()", Expand("v $1 on $2 ($9)", @"^(\S+) (\S+)", "2.4 web1"));

    [Fact]
    public void TryExpand_MissingGroup_IsEmpty()
        => Assert.Equal("v  end", Expand("v $3 end", "^(a)(b)?", "a"));

    [Fact]
    public void TryExpand_Printable_DropsControlBytes()
        => Assert.Equal("abcd", Expand("$P(1)", "^(.*)$", "a\u0001b\u0000c\u00ffd"));

    [Fact]
    public void TryExpand_Subst_ReplacesEveryOccurrence()
        => Assert.Equal("1.2.3", Expand("$SUBST(1,\"_\",\".\")", "^(.*)$", "1_2_3"));

    [Fact]
    public void TryExpand_SubstWithCommaArgument_IsQuoted()
        => Assert.Equal("1.2", Expand("$SUBST(1,\",\",\".\")", "^(.*)$", "1,2"));

    [Theory]
    [InlineData(">", "\u0001\u0002", "258")]
    [InlineData("<", "\u0001\u0002", "513")]
    [InlineData(">", "\u00ff", "255")]
    public void TryExpand_Integer_ReadsBytesInOrder(string order, string bytes, string expected)
        => Assert.Equal(expected, Expand($"$I(1,\"{order}\")", "^(.*)$", bytes));

    [Theory]
    [InlineData("$P(x)")]
    [InlineData("$SUBST(1,\"a\")")]
    [InlineData("$I(1,\"=\")")]
    [InlineData("$P(1")]
    public void TryExpand_BadHelper_IsAnError(string template)
        => Assert.False(VersionTemplate.TryExpand(template, null, out _, out _));

    [Theory]
    [InlineData("a:apache:http_server:2.4.57", "cpe:2.3:a:apache:http_server:2.4.57:*:*:*:*:*:*:*")]
    [InlineData("a:openbsd:openssh", "cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*")]
    [InlineData("o:linux:linux_kernel", "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*")]
    [InlineData("cpe:/a:vendor:prod:1.0:beta", "cpe:2.3:a:vendor:prod:1.0:beta:*:*:*:*:*:*")]
    [InlineData("a:microsoft:sql_server:2008%20r2", "cpe:2.3:a:microsoft:sql_server:2008_r2:*:*:*:*:*:*:*")]
    [InlineData("a:x:y:1.0~rc0", "cpe:2.3:a:x:y:1.0\\~rc0:*:*:*:*:*:*:*")]
    public void TryToCpe23_UriForm_BecomesFormattedString(string uri, string expected)
    {
        Assert.True(CpeConversion.TryToCpe23(uri, out var cpe23));
        Assert.Equal(expected, cpe23);
    }

    [Theory]
    [InlineData("x:vendor:product")]
    [InlineData("a:vendor")]
    [InlineData("a::product")]
    public void TryToCpe23_Malformed_IsRejected(string uri) => Assert.False(CpeConversion.TryToCpe23(uri, out _));
}
