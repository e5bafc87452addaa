using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Fingerprinting.Probes;
using ExposureIndex.Grabbers;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Crawler.Tests.Fingerprinting;

/// <summary>
/// A scripted TCP service on its own 127.x.y.z address: an optional banner, then one answer per request read,
/// chosen by a function of the bytes received. Bounded: at most 64 connections, every handler ends on dispose or
/// after a minute, and it counts connections (and the most open at once) so tests can check politeness.
/// </summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(60));
    private readonly ConcurrentBag<Task> _handlers = [];
    private readonly Task _accept;
    private readonly Func<NetworkStream, CancellationToken, Task> _handler;
    private int _open;
    private int _maxOpen;
    private int _accepted;

    private readonly bool _linger;

    public ScriptedServer(Func<NetworkStream, CancellationToken, Task> handler, int? port = null, bool linger = true)
    {
        _linger = linger;
        Address = Loopback.NextAddress();
        _listener = new TcpListener(Address, port ?? 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _handler = handler;
        _accept = AcceptAsync();
    }

    public IPAddress Address { get; }

    public int Port { get; }

    public int Accepted => Volatile.Read(ref _accepted);

    public int MaxOpen => Volatile.Read(ref _maxOpen);

    /// <summary>Every request payload received (first read of each connection after the banner), in order.</summary>
    public ConcurrentQueue<byte[]> Received { get; } = new();

    public GrabTarget Target => new(Address, Port, ExposureIndex.Contracts.V1.Transport.Tcp);

    /// <summary>Sends <paramref name="banner"/> (if any), then answers each request with <paramref name="answer"/> (null: stay silent).</summary>
    public static ScriptedServer Respond(string? banner, Func<string, string?> answer, int? port = null)
    {
        ScriptedServer? server = null;
        server = new ScriptedServer(async (stream, ct) =>
        {
            if (banner is not null)
            {
                await stream.WriteAsync(Encoding.Latin1.GetBytes(banner), ct);
            }

            var buffer = new byte[8192];
            for (var i = 0; i < 16; i++)
            {
                var n = await stream.ReadAsync(buffer, ct);
                if (n == 0)
                {
                    return;
                }

                server!.Received.Enqueue(buffer[..n]);
                if (answer(Encoding.Latin1.GetString(buffer, 0, n)) is { } reply)
                {
                    await stream.WriteAsync(Encoding.Latin1.GetBytes(reply), ct);
                }
            }
        }, port);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accept.WaitAsync(TimeSpan.FromSeconds(10));
            await Task.WhenAll(_handlers).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException or TimeoutException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested && _accepted < 64)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                Peak.Raise(ref _maxOpen, Interlocked.Increment(ref _open));

                _handlers.Add(Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            await _handler(client.GetStream(), _stop.Token);
                            // Linger until the client leaves, so "open at once" counts real overlap.
                            var drain = new byte[1024];
                            while (_linger && await client.GetStream().ReadAsync(drain, _stop.Token) > 0)
                            {
                            }
                        }
                        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
                        {
                        }
                        finally
                        {
                            Interlocked.Decrement(ref _open);
                        }
                    }
                }));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }
}

/// <summary>Helpers shared by the engine tests.</summary>
internal static class EngineHarness
{
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    public static ScanSettings FastSettings(int intensity = 7) => new()
    {
        Intensity = intensity,
        BannerWait = TimeSpan.FromMilliseconds(600),
        TalkFirstGrace = TimeSpan.FromMilliseconds(150),
        ProbeWait = TimeSpan.FromMilliseconds(600),
        QuietGap = TimeSpan.FromMilliseconds(100),
        MaxResponseBytes = 16 * 1024,
        MaxParallelProbes = 2,
        Limits = new GrabLimits { ConnectTimeout = TimeSpan.FromSeconds(2), ReadTimeout = TimeSpan.FromSeconds(2), MaxBytesPerConnection = 64 * 1024 },
    };

    /// <summary>
    /// For tests that count connections or probes sent: a banner (or answer) that a loaded machine delivers late must
    /// not let the engine open more connections first. The waits end as soon as the data arrives, so this costs time
    /// only where the peer is silent.
    /// </summary>
    public static ScanSettings PatientSettings()
    {
        var fast = FastSettings();
        return fast with
        {
            BannerWait = TimeSpan.FromSeconds(5),
            TalkFirstGrace = TimeSpan.FromSeconds(2),
            ProbeWait = TimeSpan.FromSeconds(5),
            Limits = fast.Limits with { ReadTimeout = TimeSpan.FromSeconds(10) },
        };
    }

    public static ProbeCatalog Catalog(string text)
    {
        var file = ProbeFileParser.Parse(text.Replace("\r\n", "\n", StringComparison.Ordinal), "test-probes", TimeSpan.FromMilliseconds(100));
        Assert.Empty(file.Diagnostics);
        return ProbeCatalog.Load([file]);
    }

    public static ServiceScanner Scanner(ProbeCatalog catalog, ScanSettings? settings = null)
        => new(new ProbeMatcher(catalog), SocketGrabNetwork.Instance, settings ?? FastSettings(), TimeProvider.System);

    public static async Task<ServiceIdentification> IdentifyAsync(ServiceScanner scanner, ScriptedServer server, TimeSpan? deadline = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(deadline ?? TimeSpan.FromSeconds(15));
        return await scanner.IdentifyTcpAsync(server.Target, null, cts.Token).WaitAsync(TestTimeout, TestContext.Current.CancellationToken);
    }

    /// <summary>A throwaway self-signed certificate for TLS test servers (loopback only).</summary>
    public static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=exposure-test.invalid", key, HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A TLS server: handshake, then the plain script inside.</summary>
    public static ScriptedServer Tls(X509Certificate2 certificate, string? banner, Func<string, string?> answer, int? port = null)
        => new(async (stream, ct) =>
        {
            using var ssl = new SslStream(stream, leaveInnerStreamOpen: true);
            try
            {
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, ct);
            }
            catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException)
            {
                return;
            }

            if (banner is not null)
            {
                await ssl.WriteAsync(Encoding.Latin1.GetBytes(banner), ct);
            }

            var buffer = new byte[8192];
            for (var i = 0; i < 8; i++)
            {
                int n;
                try
                {
                    n = await ssl.ReadAsync(buffer, ct);
                }
                catch (IOException)
                {
                    return;
                }

                if (n == 0)
                {
                    return;
                }

                if (answer(Encoding.Latin1.GetString(buffer, 0, n)) is { } reply)
                {
                    await ssl.WriteAsync(Encoding.Latin1.GetBytes(reply), ct);
                }
            }
        }, port);
}
