using System.Net;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Tests.Targeting;

public sealed class TargetParserTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crawler-targets-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<TargetEntry> ParseOk(params string[] specs)
    {
        var errors = new List<SpecError>();
        var entries = TargetParser.Parse(specs, errors);
        Assert.Empty(errors);
        return entries;
    }

    private static SpecError ParseOneError(params string[] specs)
    {
        var errors = new List<SpecError>();
        TargetParser.Parse(specs, errors);
        return Assert.Single(errors);
    }

    [Theory]
    [InlineData("8.8.8.8", "8.8.8.8", "8.8.8.8")]
    [InlineData("8.8.8.0/24", "8.8.8.0", "8.8.8.255")]
    [InlineData("8.8.8.77/24", "8.8.8.0", "8.8.8.255")] // host bits cleared, as nmap does
    [InlineData("0.0.0.0/0", "0.0.0.0", "255.255.255.255")]
    [InlineData("1.2.3.4/32", "1.2.3.4", "1.2.3.4")]
    [InlineData("1.2.3.4-1.2.4.9", "1.2.3.4", "1.2.4.9")]
    [InlineData("1.2.3.4-9", "1.2.3.4", "1.2.3.9")]
    [InlineData("2606:4700::1111", "2606:4700::1111", "2606:4700::1111")]
    [InlineData("[2606:4700::1111]", "2606:4700::1111", "2606:4700::1111")]
    [InlineData("2606:4700::/112", "2606:4700::", "2606:4700::ffff")]
    [InlineData("2606:4700::10-2606:4700::20", "2606:4700::10", "2606:4700::20")]
    public void Parse_SingleForms_GiveRange(string token, string first, string last)
    {
        var entry = Assert.Single(ParseOk(token));
        Assert.Equal(IPAddress.Parse(first), entry.Range.FirstAddress);
        Assert.Equal(IPAddress.Parse(last), entry.Range.LastAddress);
        Assert.Equal(token, entry.Token);
    }

    [Fact]
    public void Parse_SeveralTokensInOneArgument_SplitOnCommasAndBlanks()
    {
        var entries = ParseOk("8.8.8.8, 1.1.1.1\t9.9.9.9", "2606:4700::1");
        Assert.Equal(["8.8.8.8", "1.1.1.1", "9.9.9.9", "2606:4700::1"], entries.Select(e => e.Token));
    }

    [Theory]
    [InlineData("example.com", 1, "host names are not resolved")]
    [InlineData("1.2.3.256", 1, "greater than 255")]
    [InlineData("1.2.3", 1, "four dot-separated")]
    [InlineData("127.1", 1, "four dot-separated")]
    [InlineData("010.0.0.1", 1, "leading zero")]
    [InlineData("0x7f.0.0.1", 1, "hex and octal")]
    [InlineData("1.2.3.4/33", 1, "longer than 32")]
    [InlineData("1.2.3.4/", 1, "not a number")]
    [InlineData("1.2.3.4/abc", 1, "not a number")]
    [InlineData("2001:db8::/64", 1, "too large to enumerate")]
    [InlineData("2001:db8::1/129", 1, "longer than 128")]
    [InlineData("fe80::1%eth0", 1, "zone")]
    [InlineData("2001:db8:::1", 1, "not a valid IPv6")]
    [InlineData("1.2.3.9-1.2.3.4", 1, "backwards")]
    [InlineData("1.2.3.4-300", 1, "greater than 255")]
    [InlineData("1.2.3.4-2001:db8::1", 1, "mixes IPv4 and IPv6")]
    [InlineData("2001:db8::-2001:db8::1:0", 1, "more than 65536")]
    [InlineData("8.8.8.8 1.1.1", 9, "four dot-separated")]
    [InlineData("8.8.8.8,@", 9, "followed by a file name")]
    public void Parse_BadToken_NamesTokenAndColumn(string spec, int column, string message)
    {
        var error = ParseOneError(spec);
        Assert.Equal("argument 1", error.Source);
        Assert.Equal(column, error.Column);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(spec[(column - 1)..].Split(' ', ',')[0], error.Token);
    }

    [Fact]
    public void Parse_ErrorInSecondArgument_NamesThatArgument()
    {
        var error = ParseOneError("8.8.8.8", "1.1.1.1 bad.host");
        Assert.Equal("argument 2, column 9: 'bad.host': host names are not resolved; give an IP address", error.ToString());
    }

    [Fact]
    public void Parse_File_ReadsOneTargetPerLineWithComments()
    {
        var path = Path.Combine(_dir, "targets.txt");
        File.WriteAllLines(path, ["# scan list", "", "8.8.8.8", "  1.1.1.0/30   # resolvers", "2606:4700::1111#inline", "\t"]);
        var entries = ParseOk("@" + path, "9.9.9.9");
        Assert.Equal(["8.8.8.8", "1.1.1.0/30", "2606:4700::1111", "9.9.9.9"], entries.Select(e => e.Token));
    }

    [Fact]
    public void Parse_FileWithBadLines_ReportsFileLineAndColumn()
    {
        var path = Path.Combine(_dir, "bad.txt");
        File.WriteAllLines(path, ["8.8.8.8", "# fine", "   1.2.3.999", "ok.example # host", "@other.txt"]);
        var errors = new List<SpecError>();
        TargetParser.Parse(["@" + path], errors);
        Assert.Equal(3, errors.Count);
        Assert.Equal($"{path}:3:4: '1.2.3.999': octet 4 (999) is greater than 255", errors[0].ToString());
        Assert.Equal((5, 1), (errors[2].Line, errors[2].Column));
        Assert.Contains("cannot include other files", errors[2].Message, StringComparison.Ordinal);
        Assert.Equal(4, errors[1].Line);
    }

    [Fact]
    public void Parse_MissingFile_NamesIt()
    {
        var error = ParseOneError("8.8.8.8 @" + Path.Combine(_dir, "nope.txt"));
        Assert.Equal(9, error.Column);
        Assert.Contains("target file not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ManyErrors_StopsAtTheCap()
    {
        var path = Path.Combine(_dir, "junk.txt");
        File.WriteAllLines(path, Enumerable.Range(0, 500).Select(i => $"junk{i}"));
        var errors = new List<SpecError>();
        TargetParser.Parse(["@" + path], errors);
        Assert.Equal(TargetParser.MaxErrors, errors.Count);
        Assert.Contains("stopping after", errors[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TargetSet_MergesAndIndexes()
    {
        var entries = ParseOk("8.8.8.8-8.8.8.10", "8.8.8.9/32", "8.8.8.11", "1.1.1.1", "2606:4700::1-2606:4700::2");
        var set = TargetSet.From(entries.Select(e => e.Range));
        Assert.Equal(3, set.Ranges.Count);
        Assert.Equal((UInt128)7, set.TotalAddresses);
        string[] expected = ["1.1.1.1", "8.8.8.8", "8.8.8.9", "8.8.8.10", "8.8.8.11", "2606:4700::1", "2606:4700::2"];
        Assert.Equal(expected, Enumerable.Range(0, 7).Select(i => set[(UInt128)i].ToString()));
    }

    [Fact]
    public void AddressRange_ToString_UsesCidrWhenAligned()
    {
        Assert.Equal("10.0.0.0/8", AddressRange.ParsePrefix("10.1.2.3/8").ToString());
        Assert.Equal("::/0", AddressRange.ParsePrefix("::/0").ToString());
        var odd = new AddressRange(System.Net.Sockets.AddressFamily.InterNetwork, 1, 2);
        Assert.Equal("0.0.0.1-0.0.0.2", odd.ToString());
    }
}
