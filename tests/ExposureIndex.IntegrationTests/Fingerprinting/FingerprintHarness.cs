using System.Net;
using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Fingerprinting.Probes;
using ExposureIndex.Grabbers;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Fingerprinting;

/// <summary>Runs the probe engine, with our own probe file and default timings, against a real daemon.</summary>
internal static class FingerprintHarness
{
    public const int TestTimeoutMs = 240_000;

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static ScanSettings Settings => new()
    {
        Limits = new GrabLimits { ConnectTimeout = TimeSpan.FromSeconds(3), ReadTimeout = TimeSpan.FromSeconds(6) },
    };

    public static async Task<ServiceIdentification> IdentifyTcpAsync(IPEndPoint endPoint)
    {
        var scanner = new ServiceScanner(new ProbeMatcher(ProbeCatalog.Default), SocketGrabNetwork.Instance, Settings, TimeProvider.System);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(20));
        return await scanner.IdentifyTcpAsync(new GrabTarget(endPoint.Address, endPoint.Port, Transport.Tcp), null, deadline.Token);
    }

    public static async Task<ServiceIdentification?> IdentifyUdpAsync(IPEndPoint endPoint)
    {
        var scanner = new ServiceScanner(new ProbeMatcher(ProbeCatalog.Default), SocketGrabNetwork.Instance, Settings, TimeProvider.System);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(20));
        return await scanner.IdentifyUdpAsync(new GrabTarget(endPoint.Address, endPoint.Port, Transport.Udp), deadline.Token);
    }

    /// <summary>Asserts service and product, naming what was seen when they differ.</summary>
    public static ServiceFingerprint AssertIdentified(ServiceIdentification? result, string service, Daemon daemon)
    {
        Assert.NotNull(result);
        var seen = Encoding.Latin1.GetString(result.Response.Length > 0 ? result.Response : result.Banner);
        Assert.True(result.Service == service, $"expected {service}, got {result.Service ?? "nothing"} ({result.Outcome}: {result.Error}); answer: {Escape(seen)}\n{daemon.LogTail()}");
        var fingerprint = result.Fingerprint!;
        Assert.False(fingerprint.IsSoft, $"only a soft match ({fingerprint.Match}); answer: {Escape(seen)}");
        Assert.Equal(daemon.Product, fingerprint.Product);
        Assert.All(fingerprint.Cpe23, c => Assert.StartsWith("cpe:2.3:", c, StringComparison.Ordinal));
        return fingerprint;
    }

    private static string Escape(string text)
        => text.Length > 600 ? WireProbe.Latin1(Encoding.Latin1.GetBytes(text[..600])) : WireProbe.Latin1(Encoding.Latin1.GetBytes(text));
}
