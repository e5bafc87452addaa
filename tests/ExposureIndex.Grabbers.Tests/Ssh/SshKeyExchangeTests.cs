using System.Text;
using ExposureIndex.Grabbers.Ssh;

namespace ExposureIndex.Grabbers.Tests.Ssh;

public sealed class SshKeyExchangeTests
{
    private static SshKexInit ServerKexInit()
    {
        var transcript = SshFixtures.Transcript;
        var parser = new SshParser(expectKexReply: false);
        Assert.Equal(ParseStatus.Complete, parser.Feed(transcript));
        return parser.Result!.KexInit!;
    }

    [Fact]
    public void ChooseKex_OpenSshOffer_OurFirstSupported()
    {
        var server = ServerKexInit();

        Assert.Equal("curve25519-sha256", SshKeyExchange.ChooseKex(server));
        Assert.Equal("ecdh-sha2-nistp384", SshKeyExchange.ChooseKex(server, ["sntrup761x25519-sha512", "ecdh-sha2-nistp384"]));
        Assert.Null(SshKeyExchange.ChooseKex(server, ["diffie-hellman-group1-sha1"]));
    }

    [Fact]
    public void BuildKexInit_ParsedBack_ListsMirrorServerAndPreferOurHostKey()
    {
        var server = ServerKexInit();

        var packet = SshKeyExchange.BuildKexInit(server, "curve25519-sha256", ["rsa-sha2-512", "ssh-ed25519"]);

        Assert.Equal(0, packet.Length % 8);
        var parser = new SshParser(expectKexReply: false);
        Assert.Equal(ParseStatus.Complete, parser.Feed([.. "SSH-2.0-Ours\r\n"u8.ToArray(), .. packet]));
        var ours = parser.Result!.KexInit!;
        Assert.Equal(["curve25519-sha256"], ours.KexAlgorithms);
        Assert.Equal(["rsa-sha2-512", "ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256"], ours.ServerHostKeyAlgorithms);
        Assert.Equal(server.EncryptionServerToClient, ours.EncryptionServerToClient);
        Assert.Equal(server.MacClientToServer, ours.MacClientToServer);
        Assert.Equal(server.CompressionServerToClient, ours.CompressionServerToClient);
        Assert.False(ours.FirstKexPacketFollows);
    }

    [Theory]
    [InlineData("curve25519-sha256", 32)]
    [InlineData("ecdh-sha2-nistp256", 65)]
    [InlineData("ecdh-sha2-nistp384", 97)]
    [InlineData("ecdh-sha2-nistp521", 133)]
    public void BuildKexInitMessage_EcdhMethods_PublicValueOfCurveSize(string kex, int publicLength)
    {
        var packet = SshKeyExchange.BuildKexInitMessage(kex);

        Assert.Equal(0, packet.Length % 8);
        Assert.Equal(30, packet[5]);
        Assert.Equal(publicLength, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(6)));
    }

    [Fact]
    public void BuildKexInitMessage_Group14_MpintBelowPrime()
    {
        var packet = SshKeyExchange.BuildKexInitMessage("diffie-hellman-group14-sha256");

        var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(6));
        Assert.InRange(length, 200, 257);
        // mpint (RFC 4251 §5): positive, so the first byte has its high bit clear.
        Assert.True(packet[10] < 0x80);
    }

    [Fact]
    public void BuildKexInitMessage_Unknown_Throws()
        => Assert.Throws<ArgumentException>(() => SshKeyExchange.BuildKexInitMessage("sntrup761x25519-sha512"));

    [Fact]
    public void DataText_Transcript_ShodanLayout()
    {
        var parser = new SshParser();
        parser.Feed(SshFixtures.Transcript);

        var text = SshGrabber.DataText(parser.Result!);

        Assert.StartsWith(SshFixtures.Expected["banner"] + "\nKey type: ssh-ed25519\nKey: AAAAC3NzaC1lZDI1NTE5", text, StringComparison.Ordinal);
        Assert.Contains("\nFingerprint: " + SshFixtures.Expected["md5"] + "\n\nKex Algorithms:\n\tsntrup761x25519-sha512\n", text, StringComparison.Ordinal);
        Assert.Contains("\nCompression Algorithms:\n\tnone\n\tzlib@openssh.com\n", text, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), Encoding.UTF8.GetBytes(text).Length);
    }
}
