using ExposureIndex.Grabbers.Snmp;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Snmp;

public sealed class SnmpParserTests
{
    private static byte[] Fixture(string name) => ProtocolFixtures.Read("Snmp", name);

    [Fact]
    public void Feed_NetSnmpFullView_SystemGroupAndVersionTag()
    {
        var result = ParserFeeding.AllWays(() => new SnmpParser(), Fixture("netsnmp-get-full-view.bin"), canonical: r => r.Canonical());

        Assert.Equal(1, result.Version);
        Assert.Equal("public", result.Community);
        Assert.Equal(0x1234, result.RequestId);
        Assert.Equal(0, result.ErrorStatus);
        Assert.Equal(7, result.VarBinds.Count);
        Assert.StartsWith("Linux vm 6.", result.Get(SnmpGrabber.SysDescr)!.Text, StringComparison.Ordinal);
        Assert.Equal("1.3.6.1.4.1.8072.3.2.10", result.Get(SnmpGrabber.SysObjectId)!.Text);
        Assert.Equal(SnmpValueKind.TimeTicks, result.Get(SnmpGrabber.SysUpTime)!.Kind);
        Assert.Equal(698UL, result.Get(SnmpGrabber.SysUpTime)!.Number);
        Assert.Equal("tests@exposureindex.test", result.Get(SnmpGrabber.SysContact)!.Text);
        Assert.Equal("snmp-test", result.Get(SnmpGrabber.SysName)!.Text);
        Assert.Equal("ExposureIndex test rack", result.Get(SnmpGrabber.SysLocation)!.Text);
        Assert.Equal("5.9.3", result.Get(SnmpGrabber.VersionTag)!.Text);
    }

    [Fact]
    public void Feed_NetSnmpSystemOnlyView_VersionTagIsNoSuchObject()
    {
        var result = ParserFeeding.AllWays(() => new SnmpParser(), Fixture("netsnmp-get-systemonly-view.bin"), canonical: r => r.Canonical());

        Assert.Null(result.Get(SnmpGrabber.VersionTag));
        Assert.Equal(SnmpValueKind.NoSuchObject, result.VarBinds.Single(v => v.Oid == SnmpGrabber.VersionTag).Kind);
        Assert.Equal("vm", result.Get(SnmpGrabber.SysName)!.Text);
    }

    [Theory]
    [InlineData("netsnmp-get-full-view.bin")]
    [InlineData("netsnmp-get-systemonly-view.bin")]
    public void Feed_EveryPrefix_NeedsMore(string fixture) => ParserFeeding.PrefixesNeedMore(() => new SnmpParser(), Fixture(fixture));

    [Fact]
    public void Feed_OuterLengthBomb_InvalidFromTheHeaderAlone()
    {
        var parser = new SnmpParser();

        // Six bytes are the whole header: the 2 GiB claim is refused before any content is buffered.
        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture("hostile-length-bomb.bin").AsSpan(0, 6)));
        Assert.Contains("cap", parser.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hostile-inner-length-past-end.bin", "runs past the end")]
    [InlineData("hostile-indefinite-length.bin", "indefinite length")]
    public void Feed_MalformedBer_InvalidNamingTheElement(string fixture, string expected)
    {
        var parser = new SnmpParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture(fixture)));
        Assert.Contains(expected, parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_GetRequestInsteadOfAResponse_Invalid()
    {
        var request = SnmpGrabber.BuildGet(1, "public", [SnmpGrabber.SysDescr]);
        var parser = new SnmpParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(request));
        Assert.Contains("not a GetResponse", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void End_CutOffMessage_Invalid()
    {
        var parser = new SnmpParser();
        parser.Feed(Fixture("netsnmp-get-full-view.bin").AsSpan(0, 40));

        Assert.Equal(ParseStatus.Invalid, parser.End());
    }
}
