using System.Text;
using ExposureIndex.Grabbers.Smb;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Smb;

public sealed class SmbParserTests
{
    private static byte[] Fixture(string name) => ProtocolFixtures.Read("Smb", name);

    [Fact]
    public void Feed_SambaSmb2Negotiate_Dialect311ContextsAndSpnegoHints()
    {
        var result = ParserFeeding.AllWays(() => new SmbParser(), Fixture("samba-smb2-negotiate-311.bin"), canonical: r => r.Canonical());

        var smb2 = Assert.IsType<Smb2Negotiate>(result.Smb2);
        Assert.Null(result.Smb1);
        Assert.Equal(0u, smb2.Status);
        Assert.Equal(0x0311, smb2.DialectRevision);
        Assert.Equal(0x01, smb2.SecurityMode);
        Assert.Equal("exposuretest\0\0\0\0", Encoding.ASCII.GetString(smb2.ServerGuidBytes));
        Assert.Equal(0x0000000Fu, smb2.Capabilities);
        Assert.Equal(8u * 1024 * 1024, smb2.MaxReadSize);
        Assert.Equal(0, smb2.ServerStartTime);
        Assert.True(smb2.SystemTime > 0);
        Assert.Equal([1], smb2.PreauthHashes);
        Assert.Equal([2], smb2.Ciphers);
        Assert.Equal([2], smb2.SigningAlgorithms);
        Assert.Equal(["NTLMSSP"], smb2.SecurityMechanisms);
        Assert.Equal("not_defined_in_RFC4178@please_ignore", smb2.NegHint);
    }

    [Fact]
    public void Feed_SambaRefusingSmb1_DialectIndexNone()
    {
        var result = ParserFeeding.AllWays(() => new SmbParser(), Fixture("samba-smb1-refused.bin"), canonical: r => r.Canonical());

        var smb1 = Assert.IsType<Smb1Negotiate>(result.Smb1);
        Assert.Equal(0xFFFF, smb1.DialectIndex);
        Assert.False(smb1.Accepted);
    }

    [Fact]
    public void Feed_SambaWithSmb1Enabled_NtLm012Accepted()
    {
        var result = ParserFeeding.AllWays(() => new SmbParser(), Fixture("samba-smb1-accepted.bin"), canonical: r => r.Canonical());

        var smb1 = Assert.IsType<Smb1Negotiate>(result.Smb1);
        Assert.Equal(0, smb1.DialectIndex);
        Assert.Equal(17, smb1.WordCount);
        Assert.True(smb1.Accepted);
    }

    [Fact]
    public void Feed_Smb1RequestAnsweredWithSmb2_WildcardDialect()
    {
        var result = ParserFeeding.AllWays(() => new SmbParser(), Fixture("samba-smb1-request-answered-with-smb2.bin"), canonical: r => r.Canonical());

        Assert.Equal(0x02FF, result.Smb2!.DialectRevision);
        Assert.Empty(result.Smb2.Ciphers);
    }

    [Theory]
    [InlineData("samba-smb2-negotiate-311.bin")]
    [InlineData("samba-smb1-refused.bin")]
    [InlineData("samba-smb1-accepted.bin")]
    [InlineData("samba-smb1-request-answered-with-smb2.bin")]
    public void Feed_EveryPrefix_NeedsMore(string fixture) => ParserFeeding.PrefixesNeedMore(() => new SmbParser(), Fixture(fixture));

    [Fact]
    public void Feed_FrameOverTheCap_InvalidFromTheLengthAlone()
    {
        var parser = new SmbParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture("hostile-frame-over-cap.bin").AsSpan(0, 4)));
        Assert.Contains("cap", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_NetbiosNegativeSessionResponse_InvalidSayingSo()
    {
        var parser = new SmbParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture("garbage-netbios-negative-session.bin")));
        Assert.Contains("NetBIOS session request", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_ContextOffsetPastTheEnd_InvalidNamingTheContext()
    {
        var fixture = Fixture("samba-smb2-negotiate-311.bin");
        // NegotiateContextOffset sits at body offset 60: point it 8 bytes before the end, where 3 contexts cannot fit.
        var offset = fixture.Length - 4 - 8;
        BitConverter.TryWriteBytes(fixture.AsSpan(4 + 64 + 60, 4), (uint)offset);
        var parser = new SmbParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(fixture));
        Assert.Contains("negotiate context", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_SecurityBufferPastTheEnd_Invalid()
    {
        var fixture = Fixture("samba-smb2-negotiate-311.bin");
        BitConverter.TryWriteBytes(fixture.AsSpan(4 + 64 + 58, 2), (ushort)0xFFFF);
        var parser = new SmbParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(fixture));
        Assert.Contains("security buffer", parser.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("exposuretest", true)]
    [InlineData("fileserver01", true)]
    [InlineData("Mixed", false)]
    [InlineData("", false)]
    public void TryNetbiosNameGuid_NameThenZeros_OnlyLowerCaseNames(string name, bool expected)
    {
        var guid = new byte[16];
        Encoding.ASCII.GetBytes(name).CopyTo(guid, 0);

        Assert.Equal(expected, SmbGrabber.TryNetbiosNameGuid(guid, out var parsed));
        Assert.Equal(expected ? name : string.Empty, parsed);
    }

    [Fact]
    public void TryNetbiosNameGuid_RandomGuid_False() => Assert.False(SmbGrabber.TryNetbiosNameGuid(Guid.Parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301").ToByteArray(), out _));

    [Fact]
    public void BuildSmb2Negotiate_Always_FiveDialectsAndAlignedContexts()
    {
        var request = SmbGrabber.BuildSmb2Negotiate(new byte[16], new byte[32]);
        var message = request.AsSpan(4);

        Assert.Equal(request.Length - 4, (request[1] << 16) | (request[2] << 8) | request[3]);
        Assert.Equal(0xFE, message[0]);
        Assert.Equal(0, BitConverter.ToUInt16(message[12..])); // NEGOTIATE
        Assert.Equal(36, BitConverter.ToUInt16(message[64..]));
        Assert.Equal(5, BitConverter.ToUInt16(message[66..]));
        var contextOffset = (int)BitConverter.ToUInt32(message[(64 + 28)..]);
        Assert.Equal(0, contextOffset % 8);
        Assert.Equal(3, BitConverter.ToUInt16(message[(64 + 32)..]));
        Assert.Equal(1, BitConverter.ToUInt16(message[contextOffset..])); // the first context is pre-authentication integrity
    }
}
