using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Ssh;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Ssh;

public sealed class SshGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Replays the captured OpenSSH server: banner and KEXINIT, then (once the client spoke) its key exchange reply.</summary>
    private static TestServer Replay(List<byte[]>? fromClient = null) => TestServer.OnStream(async (stream, ct) =>
    {
        var transcript = SshFixtures.Transcript;
        var ends = SshFixtures.Boundaries(transcript);
        await stream.WriteAsync(transcript.AsMemory(0, ends[1]), ct);
        var received = new List<byte>();
        var buffer = new byte[4096];
        // Wait for the client's identification, KEXINIT and key exchange init (two packets after the line).
        while (!ClientSpoke(received))
        {
            var n = await stream.ReadAsync(buffer, ct);
            if (n == 0)
            {
                return;
            }

            received.AddRange(buffer.AsSpan(0, n));
        }

        lock (fromClient ?? [])
        {
            fromClient?.Add([.. received]);
        }

        await stream.WriteAsync(transcript.AsMemory(ends[1]), ct);
        await stream.ReadAtLeastAsync(buffer, 1, throwOnEndOfStream: false, ct);
    });

    private static bool ClientSpoke(List<byte> received)
    {
        var bytes = received.ToArray();
        var line = Array.IndexOf(bytes, (byte)'\n');
        return line >= 0 && SshFixtures.Boundaries(bytes).Count(e => e <= bytes.Length) >= 3;
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_ReplayedOpenSsh_SectionProductAndData()
    {
        var fromClient = new List<byte[]>();
        await using var server = Replay(fromClient);

        var result = await new SshGrabber().GrabAsync(server.Context(GrabContexts.Roomy), Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}");
        Assert.Null(result.Error);
        var record = result.Fragment;
        var expected = SshFixtures.Expected;
        Assert.Equal("ssh", record.Module);
        Assert.Equal("OpenSSH", record.Product);
        Assert.Equal("9.2p1", record.Version);
        Assert.Equal("Debian", record.Os);
        Assert.Equal("protocol 2.0", record.Info);
        Assert.Equal(expected["banner"], record.Ssh.Banner);
        Assert.Equal(expected["type"], record.Ssh.Type);
        Assert.Equal(expected["sha256"], record.Ssh.FingerprintSha256);
        Assert.Equal(expected["md5"], record.Ssh.Fingerprint);
        Assert.Equal(expected["hassh"], record.Ssh.Hassh);
        Assert.Equal(expected["kex"], string.Join(',', record.Ssh.Kex.KexAlgorithms));
        Assert.StartsWith(expected["banner"] + "\nKey type: ssh-ed25519\n", Encoding.UTF8.GetString(record.Data.Span), StringComparison.Ordinal);

        // What we sent: our identification, then a KEXINIT naming only the method we then started.
        var sent = Assert.Single(fromClient);
        Assert.StartsWith("SSH-2.0-ExposureIndex_", Encoding.ASCII.GetString(sent), StringComparison.Ordinal);
        var parser = new SshParser(expectKexReply: false);
        Assert.Equal(ParseStatus.Complete, parser.Feed(sent));
        Assert.Equal(["curve25519-sha256"], parser.Result!.KexInit!.KexAlgorithms);
        Assert.Equal("ssh-ed25519", parser.Result.KexInit.ServerHostKeyAlgorithms[0]);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        await using var server = TestServer.OnStream(async (_, ct) => await Task.Delay(Timeout.Infinite, ct));

        var result = await new SshGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_EndlessPreBannerLines_ProtocolError()
    {
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            for (var i = 0; i < 1_000_000; i++)
            {
                await stream.WriteAsync("Welcome, this never ends\r\n"u8.ToArray(), ct);
            }
        });

        var result = await new SshGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
        Assert.Contains("more than 64 lines", result.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_SlowDripBanner_EndsAtDeadline()
    {
        var limits = GrabContexts.Short with { ReadTimeout = TimeSpan.FromSeconds(2), TotalDeadline = TimeSpan.FromSeconds(3) };
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                await stream.WriteAsync("S"u8.ToArray(), ct);
                await Task.Delay(100, ct);
            }
        });

        var result = await new SshGrabber().GrabAsync(server.Context(limits), Ct);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Contains("deadline", result.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_BannerThenGarbage_ProtocolErrorKeepingBanner()
    {
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            await stream.WriteAsync("SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u1\r\n"u8.ToArray(), ct);
            await stream.WriteAsync(ProtocolFixtures.Read("Ssh", "hostile-huge-packet.bin").AsMemory(21), ct);
            await stream.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, ct);
        });

        var result = await new SshGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
        Assert.Contains("packet length", result.Error, StringComparison.Ordinal);
        Assert.Equal("OpenSSH", result.Fragment.Product);
        Assert.Equal("8.4p1", result.Fragment.Version);
        Assert.Equal("SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u1", result.Fragment.Ssh.Banner);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_BannerThenStall_IoTimeoutKeepingBanner()
    {
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            await stream.WriteAsync("SSH-2.0-dropbear_2022.83\r\n"u8.ToArray(), ct);
            await Task.Delay(Timeout.Infinite, ct);
        });

        var result = await new SshGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Equal("Dropbear sshd", result.Fragment.Product);
        Assert.Equal("2022.83", result.Fragment.Version);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_NoCommonKex_SuccessWithHasshAndNote()
    {
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            var transcript = SshFixtures.Transcript;
            var ends = SshFixtures.Boundaries(transcript);
            var parser = new SshParser(expectKexReply: false);
            parser.Feed(transcript.AsSpan(0, ends[1]));
            var kex = parser.Result!.KexInit! with { KexAlgorithms = ["sntrup761x25519-sha512@openssh.com"] };
            var packet = SshKeyExchange.BuildKexInit(kex, "sntrup761x25519-sha512@openssh.com", ["ssh-ed25519"]);
            await stream.WriteAsync("SSH-2.0-OpenSSH_9.9\r\n"u8.ToArray(), ct);
            await stream.WriteAsync(packet, ct);
            await stream.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, ct);
        });

        var result = await new SshGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Contains("no key exchange method in common", result.Error, StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{32}$", result.Fragment.Ssh.Hassh);
        Assert.Empty(result.Fragment.Ssh.Fingerprint);
        Assert.Equal("9.9", result.Fragment.Version);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_DisconnectAfterBanner_SuccessWithReason()
    {
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            await stream.WriteAsync(ProtocolFixtures.Read("Ssh", "disconnect.bin"), ct);
            await stream.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, ct);
        });

        var result = await new SshGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Contains("Too many connections", result.Error, StringComparison.Ordinal);
        Assert.Equal("Ubuntu", result.Fragment.Os);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_ClosedAtOnce_Closed()
    {
        await using var server = TestServer.OnStream((stream, _) =>
        {
            stream.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
            return Task.CompletedTask;
        });

        var result = await new SshGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Closed, result.Outcome);
    }
}
