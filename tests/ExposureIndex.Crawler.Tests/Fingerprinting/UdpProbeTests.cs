using System.Net;
using System.Net.Sockets;
using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Fingerprinting.Probes;
using ExposureIndex.Grabbers;
using ExposureIndex.TestCommon;
using static ExposureIndex.Crawler.Tests.Fingerprinting.EngineHarness;

namespace ExposureIndex.Crawler.Tests.Fingerprinting;

/// <summary>UDP probing against tiny UDP responders on loopback.</summary>
public sealed class UdpProbeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Answers each datagram with <paramref name="answer"/>(request) (null: silence); bounded to 64 datagrams.</summary>
    private static (UdpClient Socket, Task Loop, GrabTarget Target) Responder(Func<byte[], byte[]?> answer, CancellationToken ct)
    {
        var address = Loopback.NextAddress();
        var socket = new UdpClient(new IPEndPoint(address, 0));
        var port = ((IPEndPoint)socket.Client.LocalEndPoint!).Port;
        var loop = Task.Run(async () =>
        {
            for (var i = 0; i < 64; i++)
            {
                UdpReceiveResult received;
                try
                {
                    received = await socket.ReceiveAsync(ct);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }

                if (answer(received.Buffer) is { } reply)
                {
                    await socket.SendAsync(reply, received.RemoteEndPoint, ct);
                }
            }
        }, ct);
        return (socket, loop, new GrabTarget(address, port, Transport.Udp));
    }

    private static async Task<ServiceIdentification?> IdentifyAsync(ServiceScanner scanner, GrabTarget target)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        return await scanner.IdentifyUdpAsync(target, cts.Token).WaitAsync(TestTimeout, Ct);
    }

    [Fact]
    public async Task IdentifyUdpAsync_DnsVersionBindAnswer_IsMatched()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var (socket, loop, target) = Responder(request =>
        {
            // A CH TXT answer echoing the question, as BIND does for version.bind (RFC 1035 §4.1).
            if (request.Length < 12 || !Encoding.ASCII.GetString(request).Contains("version", StringComparison.Ordinal))
            {
                return null;
            }

            var txt = "9.18.49-1~deb12u3-Debian"u8.ToArray();
            var answer = new List<byte>();
            answer.AddRange([request[0], request[1], 0x85, 0x00, 0, 1, 0, 1, 0, 0, 0, 0]);
            answer.AddRange(request[12..]);
            answer.AddRange([0xc0, 0x0c, 0, 0x10, 0, 3, 0, 0, 0, 0, 0, (byte)(txt.Length + 1), (byte)txt.Length]);
            answer.AddRange(txt);
            return [.. answer];
        }, stop.Token);
        using (socket)
        {
            // A port the DNS probe does not list: the probe runs in the rarity phase.
            var result = await IdentifyAsync(Scanner(ProbeCatalog.Default), target);
            Assert.NotNull(result);
            Assert.Equal("domain", result.Service);
            Assert.Equal("ISC BIND", result.Fingerprint!.Product);
            Assert.Equal("9.18.49-1~deb12u3", result.Fingerprint.Version);
            await stop.CancelAsync();
        }

        await loop.WaitAsync(TestTimeout, Ct);
    }

    [Fact]
    public async Task IdentifyUdpAsync_UnknownAnswer_IsRecordedWithoutAService()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var (socket, loop, target) = Responder(_ => "hello from udp"u8.ToArray(), stop.Token);
        using (socket)
        {
            var result = await IdentifyAsync(Scanner(ProbeCatalog.Default), target);
            Assert.NotNull(result);
            Assert.Null(result.Service);
            Assert.Equal("hello from udp", Encoding.ASCII.GetString(result.Response));
            await stop.CancelAsync();
        }

        await loop.WaitAsync(TestTimeout, Ct);
    }

    [Fact]
    public async Task IdentifyUdpAsync_SilentPort_GivesNoResult()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var (socket, loop, target) = Responder(_ => null, stop.Token);
        using (socket)
        {
            Assert.Null(await IdentifyAsync(Scanner(ProbeCatalog.Default), target));
            await stop.CancelAsync();
        }

        await loop.WaitAsync(TestTimeout, Ct);
    }

    [Fact]
    public async Task IdentifyUdpAsync_ClosedPort_GivesNoResultAndStopsEarly()
    {
        var address = Loopback.NextAddress();
        var target = new GrabTarget(address, Loopback.FreeUdpPort(address), Transport.Udp);
        Assert.Null(await IdentifyAsync(Scanner(ProbeCatalog.Default), target));
    }

    [Fact]
    public async Task IdentifyUdpAsync_PortProbe_IsTriedFirst()
    {
        const string probes = """
            Probe UDP Ping q|PING|
            rarity 1
            match pong m|^PONG ([\d.]+)| p/Ponger/ v/$1/
            Probe UDP Special q|SPECIAL|
            rarity 9
            ports 1-65535
            match special m|^SPECIAL-OK| p/Special/
            """;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var (socket, loop, target) = Responder(request =>
        {
            var text = Encoding.ASCII.GetString(request);
            seen.Enqueue(text);
            return text == "SPECIAL" ? "SPECIAL-OK"u8.ToArray() : "PONG 1.0"u8.ToArray();
        }, stop.Token);
        using (socket)
        {
            var result = await IdentifyAsync(Scanner(Catalog(probes)), target);
            Assert.Equal("special", result!.Service);
            Assert.Equal(["SPECIAL"], seen);
            await stop.CancelAsync();
        }

        await loop.WaitAsync(TestTimeout, Ct);
    }
}
