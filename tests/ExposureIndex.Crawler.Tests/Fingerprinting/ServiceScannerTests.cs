using System.Net;
using System.Net.Sockets;
using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Fingerprinting.Probes;
using ExposureIndex.Grabbers;
using static ExposureIndex.Crawler.Tests.Fingerprinting.EngineHarness;

namespace ExposureIndex.Crawler.Tests.Fingerprinting;

/// <summary>The engine's state machine against scripted services on loopback.</summary>
public sealed class ServiceScannerTests
{
    private const string Probes = """
        Probe TCP NULL q||
        tcpwrappedms 2000
        match ssh m|^SSH-([\d.]+)-Test_([\d.]+)\r\n| p/TestSSH/ v/$2/ i/protocol $1/ cpe:/a:test:testssh:$2/
        softmatch foo m|^FOO ready\r\n|
        Probe TCP Alpha q|ALPHA\r\n|
        rarity 1
        ports 7001
        match alpha m|^ALPHA-OK ([\d.]+)| p/Alpha server/ v/$1/
        Probe TCP Beta q|BETA\r\n|
        rarity 2
        match foo m|^FOO ready\r\nFOO ([\d.]+)\r\n| p/Foo daemon/ v/$1/ cpe:/a:foo:foo:$1/
        match foo m|^FOO ([\d.]+)\r\n| p/Foo daemon/ v/$1/ cpe:/a:foo:foo:$1/
        Probe TCP Gamma q|GAMMA\r\n|
        rarity 3
        fallback Beta
        match gamma m|^GAMMA!|
        Probe TCP Rare q|RARE\r\n|
        rarity 9
        ports 7009
        match rare m|^RARE-OK| p/Rare/
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task IdentifyTcpAsync_TalkFirstBanner_HardMatchOnOneConnection()
    {
        await using var server = ScriptedServer.Respond("SSH-2.0-Test_1.5\r\n", _ => null);
        var result = await IdentifyAsync(Scanner(Catalog(Probes), PatientSettings()), server);

        Assert.Equal("ssh", result.Service);
        Assert.False(result.Fingerprint!.IsSoft);
        Assert.Equal("TestSSH", result.Fingerprint.Product);
        Assert.Equal("1.5", result.Fingerprint.Version);
        Assert.Equal("protocol 2.0", result.Fingerprint.Info);
        Assert.Equal(["cpe:2.3:a:test:testssh:1.5:*:*:*:*:*:*:*"], result.Fingerprint.Cpe23);
        Assert.Equal("SSH-2.0-Test_1.5\r\n", Encoding.Latin1.GetString(result.Banner));
        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal(1, server.Accepted);
        Assert.Empty(server.Received);
    }

    [Fact]
    public async Task IdentifyTcpAsync_SilentListedPort_SendsThePortProbeOnTheNullConnection()
    {
        await using var server = ScriptedServer.Respond(null, r => r == "ALPHA\r\n" ? "ALPHA-OK 3.1\r\n" : null, port: 7001);
        var result = await IdentifyAsync(Scanner(Catalog(Probes), PatientSettings()), server);

        Assert.Equal("alpha", result.Service);
        Assert.Equal("3.1", result.Fingerprint!.Version);
        Assert.Equal("Alpha", result.ProbeName);
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task IdentifyTcpAsync_SoftMatch_NarrowsToProbesThatCanHardMatchIt()
    {
        await using var server = ScriptedServer.Respond("FOO ready\r\n", r => r == "BETA\r\n" ? "FOO 2.0\r\n" : "ERR\r\n");
        var result = await IdentifyAsync(Scanner(Catalog(Probes), PatientSettings()), server);

        Assert.Equal("foo", result.Service);
        Assert.False(result.Fingerprint!.IsSoft);
        Assert.Equal("Foo daemon", result.Fingerprint.Product);
        Assert.Equal("2.0", result.Fingerprint.Version);
        Assert.Equal("FOO ready\r\n", Encoding.Latin1.GetString(result.Banner));
        var sent = server.Received.Select(b => Encoding.Latin1.GetString(b)).ToList();
        Assert.Contains("BETA\r\n", sent);
        // Alpha and Gamma cannot hard-match "foo" (Gamma only through its fallback to Beta, which was tried).
        Assert.DoesNotContain("ALPHA\r\n", sent);
    }

    [Fact]
    public async Task IdentifyTcpAsync_Fallback_UsesAnotherProbesMatchLines()
    {
        // Only Gamma gets an answer, and only Beta's lines recognise it.
        await using var server = ScriptedServer.Respond(null, r => r == "GAMMA\r\n" ? "FOO 9.9\r\n" : null);
        var result = await IdentifyAsync(Scanner(Catalog(Probes)), server);

        Assert.Equal("foo", result.Service);
        Assert.Equal("9.9", result.Fingerprint!.Version);
        Assert.Equal("Gamma", result.ProbeName);
    }

    [Fact]
    public async Task IdentifyTcpAsync_RareProbe_IsSentOnlyOnItsPortOrAtHighIntensity()
    {
        await using var unlisted = ScriptedServer.Respond(null, r => r == "RARE\r\n" ? "RARE-OK\r\n" : null);
        var low = await IdentifyAsync(Scanner(Catalog(Probes)), unlisted);
        Assert.Null(low.Service);
        Assert.DoesNotContain(unlisted.Received, b => Encoding.Latin1.GetString(b) == "RARE\r\n");

        var high = await IdentifyAsync(Scanner(Catalog(Probes), FastSettings(intensity: 9)), unlisted);
        Assert.Equal("rare", high.Service);

        await using var listed = ScriptedServer.Respond(null, r => r == "RARE\r\n" ? "RARE-OK\r\n" : null, port: 7009);
        var onPort = await IdentifyAsync(Scanner(Catalog(Probes)), listed);
        Assert.Equal("rare", onPort.Service);
    }

    [Fact]
    public async Task IdentifyTcpAsync_ParallelProbes_StayWithinThePerPortCap()
    {
        await using var server = ScriptedServer.Respond(null, _ => null);
        var settings = FastSettings(intensity: 9);
        // Counted on the scanner's side, from connect to dispose: the server notices a close only when it gets to
        // the FIN, which under load can lag several probes behind.
        var network = new CountingNetwork();
        var scanner = new ServiceScanner(new ProbeMatcher(Catalog(Probes)), network, settings, TimeProvider.System);
        var result = await IdentifyAsync(scanner, server);

        Assert.Null(result.Service);
        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Contains("no banner and no answer", result.Error, StringComparison.Ordinal);
        // The NULL probe's connection plus at most MaxParallelProbes others.
        Assert.InRange(network.MaxOpen, 2, 1 + settings.MaxParallelProbes);
        Assert.Equal(0, network.Open);
        Assert.Equal(5, network.Connects);
        Assert.Equal(5, server.Accepted);
    }

    [Fact]
    public async Task IdentifyTcpAsync_PeerClosesAtOnce_IsTcpWrapped()
    {
        await using var server = new ScriptedServer((_, _) => Task.CompletedTask, linger: false);
        var result = await IdentifyAsync(Scanner(Catalog(Probes), PatientSettings()), server);

        Assert.Equal("tcpwrapped", result.Service);
        Assert.Equal(GrabOutcome.Closed, result.Outcome);
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task IdentifyTcpAsync_UnmatchedBanner_KeepsTheBannerAsData()
    {
        await using var server = ScriptedServer.Respond("HELLO THERE\r\n", _ => null);
        var result = await IdentifyAsync(Scanner(Catalog(Probes)), server);

        Assert.Null(result.Service);
        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal("HELLO THERE\r\n", Encoding.Latin1.GetString(result.Banner));
    }

    [Fact]
    public async Task IdentifyTcpAsync_TlsPort_ProbesInsideTls()
    {
        using var certificate = SelfSigned();
        const string probes = """
            Probe TCP NULL q||
            Probe TCP Get q|GET / HTTP/1.0\r\n\r\n|
            rarity 1
            sslports 1-65535
            match http m|^HTTP/1\.0 200 OK\r\nServer: TinyWeb/([\d.]+)| p/TinyWeb/ v/$1/
            """;
        await using var server = Tls(certificate, null, r => r.StartsWith("GET /", StringComparison.Ordinal) ? "HTTP/1.0 200 OK\r\nServer: TinyWeb/4.2\r\n\r\n" : null);
        var result = await IdentifyAsync(Scanner(Catalog(probes)), server);

        Assert.Equal("http", result.Service);
        Assert.True(result.Tls);
        Assert.Equal("TinyWeb", result.Fingerprint!.Product);
        Assert.Equal("4.2", result.Fingerprint.Version);
    }

    [Fact]
    public async Task IdentifyTcpAsync_TlsOnAnUnlistedPort_IsFoundFromTheTlsLookingAnswer()
    {
        using var certificate = SelfSigned();
        await using var server = Tls(certificate, "* OK IMAP ready\r\n", _ => null);
        var result = await IdentifyAsync(Scanner(ProbeCatalog.Default), server);

        Assert.True(result.Tls);
        Assert.Equal("imap", result.Service);
    }

    [Fact]
    public async Task IdentifyTcpAsync_DefaultCatalog_IdentifiesBannersOfRealDaemons()
    {
        await using var ftp = ScriptedServer.Respond("220 (vsFTPd 3.0.3)\r\n", _ => null);
        var result = await IdentifyAsync(Scanner(ProbeCatalog.Default), ftp);
        Assert.Equal("ftp", result.Service);
        Assert.Equal("vsftpd", result.Fingerprint!.Product);
        Assert.Equal("3.0.3", result.Fingerprint.Version);
        Assert.Equal(["cpe:2.3:a:vsftpd:vsftpd:3.0.3:*:*:*:*:*:*:*"], result.Fingerprint.Cpe23);
    }

    [Fact]
    public async Task IdentifyTcpAsync_ImplicitTlsMailPort_FindsTheGreetingInsideTls()
    {
        using var certificate = SelfSigned();
        // 993 is an sslports port of our file; the test binds it on its own loopback address when it can.
        ScriptedServer server;
        try
        {
            server = Tls(certificate, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Dovecot (Debian) ready.\r\n", _ => null, port: 993);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            ExposureIndex.TestCommon.Requires.SkipOrFail($"cannot listen on port 993 here: {e.SocketErrorCode}");
            return;
        }

        await using (server)
        {
            var result = await IdentifyAsync(Scanner(ProbeCatalog.Default), server);

            Assert.True(result.Tls);
            Assert.Equal("imap", result.Service);
            Assert.Equal("Dovecot imapd", result.Fingerprint!.Product);
            // The TLS search starts at once on an sslports port: no plain probe is ever sent there.
            Assert.Equal(2, server.Accepted);
        }
    }

    /// <summary>Real loopback sockets, counting the connections open at once (connect to dispose).</summary>
    private sealed class CountingNetwork : IGrabNetwork
    {
        private int _open;
        private int _maxOpen;
        private int _connects;

        public int Open => Volatile.Read(ref _open);

        public int MaxOpen => Volatile.Read(ref _maxOpen);

        public int Connects => Volatile.Read(ref _connects);

        public async ValueTask<GrabConnection> ConnectAsync(GrabTarget target, GrabLimits limits, CancellationToken deadline)
        {
            Assert.True(IPAddress.IsLoopback(target.Address));
            var socket = new Socket(target.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(target.EndPoint, deadline);
            Interlocked.Increment(ref _connects);
            Peak.Raise(ref _maxOpen, Interlocked.Increment(ref _open));

            return SocketGrabNetwork.Wrap(new ClosingStream(new NetworkStream(socket, ownsSocket: true), () => Interlocked.Decrement(ref _open)), limits, deadline);
        }

        public ValueTask<IReadOnlyList<byte[]>> ExchangeUdpAsync(GrabTarget target, ReadOnlyMemory<byte> request, GrabLimits limits, CancellationToken deadline, int maxReplies = 1)
            => throw new NotSupportedException("TCP only");
    }

    /// <summary>A network stream that reports its (first) dispose.</summary>
    private sealed class ClosingStream(NetworkStream inner, Action closed) : DelegatingStream(inner)
    {
        private int _closed;

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing && Interlocked.Exchange(ref _closed, 1) == 0)
            {
                closed();
            }
        }
    }
}
