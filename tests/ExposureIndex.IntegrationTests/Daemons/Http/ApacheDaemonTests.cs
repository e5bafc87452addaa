using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Daemons.Http;

public sealed class ApacheDaemonTests
{
    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_GetRoot_ServerHeaderAndTitle()
    {
        await using var apache = await ApacheDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var response = await WireProbe.HttpGetAsync(apache.EndPoint, "/", DaemonAssert.NetTimeout, DaemonAssert.Ct);

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        // ServerTokens defaults to Full in the binary: "Apache/<version> (Debian)".
        Assert.Contains($"\r\nServer: Apache/{apache.Version} (Debian)\r\n", response, StringComparison.Ordinal);
        Assert.Contains($"<title>{apache.Title}</title>", response, StringComparison.Ordinal);
        Assert.Equal("Apache httpd", apache.Product);
        await DaemonAssert.BindsOnlyItsAddressAsync(apache);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task DisposeAsync_AfterStart_PidGoneAndPortClosed()
    {
        var apache = await ApacheDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        _ = await WireProbe.HttpGetAsync(apache.EndPoint, "/", DaemonAssert.NetTimeout, DaemonAssert.Ct);

        await DaemonAssert.StopsCleanlyAsync(apache);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_NextToNginx_BothServeOnTheirOwnAddress()
    {
        await using var apache = await ApacheDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        await using var nginx = await NginxDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        await using var secondApache = await ApacheDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        Assert.Contains("Server: Apache/", await WireProbe.HttpGetAsync(apache.EndPoint, "/", DaemonAssert.NetTimeout, DaemonAssert.Ct), StringComparison.Ordinal);
        Assert.Contains("Server: nginx/", await WireProbe.HttpGetAsync(nginx.EndPoint, "/", DaemonAssert.NetTimeout, DaemonAssert.Ct), StringComparison.Ordinal);
        Assert.Contains($"<title>{secondApache.Title}</title>", await WireProbe.HttpGetAsync(secondApache.EndPoint, "/", DaemonAssert.NetTimeout, DaemonAssert.Ct), StringComparison.Ordinal);
    }
}
