using ExposureIndex.Grabbers.Ssh;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Ssh;

public sealed class SshParserTests
{
    private static SshResult ParseAllWays(byte[] fixture, bool expectKexReply = true, bool endOfStream = false)
        => ParserFeeding.AllWays(() => new SshParser(expectKexReply), fixture, endOfStream, canonical: r => r.Canonical());

    [Fact]
    public void Feed_OpenSshTranscript_BannerKexAndHostKeyAsPythonComputed()
    {
        var expected = SshFixtures.Expected;

        var result = ParseAllWays(SshFixtures.Transcript);

        Assert.Equal(expected["banner"], result.Banner);
        Assert.Empty(result.PreBannerLines);
        Assert.Equal(expected["type"], result.HostKeyType);
        Assert.Equal(expected["sha256"], result.FingerprintSha256);
        Assert.Equal(expected["md5"], result.FingerprintMd5);
        Assert.Equal(expected["hassh"], result.KexInit!.HasshServer);
        Assert.Equal(expected["kex"], string.Join(',', result.KexInit.KexAlgorithms));
        Assert.Equal(expected["enc"], string.Join(',', result.KexInit.EncryptionServerToClient));
        Assert.Equal(expected["mac"], string.Join(',', result.KexInit.MacServerToClient));
        Assert.Equal(expected["cmp"], string.Join(',', result.KexInit.CompressionServerToClient));
        Assert.Equal(expected["hostkeys"], string.Join(',', result.KexInit.ServerHostKeyAlgorithms));
        Assert.Null(result.Disconnect);
    }

    [Fact]
    public void Feed_TranscriptPrefixesUpToKexReply_NeedMore()
    {
        var transcript = SshFixtures.Transcript;
        var replyEnd = SshFixtures.Boundaries(transcript)[2];

        ParserFeeding.PrefixesNeedMore(() => new SshParser(), transcript[..replyEnd]);
    }

    [Fact]
    public void Feed_KexInitOnly_CompletesWhenReplyNotExpected()
    {
        var transcript = SshFixtures.Transcript;
        var kexInitEnd = SshFixtures.Boundaries(transcript)[1];

        var result = ParseAllWays(transcript[..kexInitEnd], expectKexReply: false);

        Assert.Null(result.HostKey);
        Assert.Equal(SshFixtures.Expected["hassh"], result.KexInit!.HasshServer);
    }

    [Fact]
    public void Feed_PreBannerLines_KeptAndTolerated()
    {
        var result = ParseAllWays(ProtocolFixtures.Read("Ssh", "prebanner-lines.bin"));

        Assert.Equal(["Hello there", "Authorized use only"], result.PreBannerLines);
        Assert.Equal(SshFixtures.Expected["sha256"], result.FingerprintSha256);
    }

    [Fact]
    public void Feed_Ssh1OnlyBanner_CompleteWithBannerOnly()
    {
        var result = ParseAllWays(ProtocolFixtures.Read("Ssh", "ssh1-banner.bin"));

        Assert.Equal("SSH-1.5-OpenSSH_3.9p1", result.Banner);
        Assert.Null(result.KexInit);
    }

    [Fact]
    public void Feed_Disconnect_CompleteWithReason()
    {
        var result = ParseAllWays(ProtocolFixtures.Read("Ssh", "disconnect.bin"));

        Assert.Equal("Too many connections (reason 2)", result.Disconnect);
        Assert.Null(result.HostKey);
    }

    [Fact]
    public void End_AfterBannerOnly_CompleteKeepingBanner()
    {
        var transcript = SshFixtures.Transcript;
        var bannerEnd = SshFixtures.Boundaries(transcript)[0];

        var result = ParseAllWays(transcript[..bannerEnd], endOfStream: true);

        Assert.Equal(SshFixtures.Expected["banner"], result.Banner);
        Assert.Null(result.KexInit);
    }

    [Theory]
    [InlineData("garbage-binary.bin", "binary data where the SSH identification string belongs")]
    [InlineData("hostile-huge-packet.bin", "SSH packet length 4294967295 is outside")]
    [InlineData("hostile-bad-padding.bin", "padding length 40 does not fit")]
    [InlineData("hostile-reply-before-kexinit.bin", "before the server's KEXINIT")]
    [InlineData("hostile-long-line.bin", "identification string exceeds")]
    [InlineData("hostile-many-lines.bin", "more than 64 lines")]
    public void Feed_HostileOrGarbage_InvalidWithReason(string fixture, string reason)
        => ParserFeeding.InvalidWholeAndByteByByte(() => new SshParser(), ProtocolFixtures.Read("Ssh", fixture), reason);

    [Fact]
    public void End_NothingReceived_Invalid()
    {
        var parser = new SshParser();

        Assert.Equal(ParseStatus.Invalid, parser.End());
        Assert.Contains("without an SSH identification string", parser.Error, StringComparison.Ordinal);
    }
}
