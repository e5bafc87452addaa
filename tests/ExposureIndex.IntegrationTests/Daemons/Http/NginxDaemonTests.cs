using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Daemons.Http;

public sealed class NginxDaemonTests
{
    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_GetRoot_ServerHeaderAndTitle()
    {
        await using var nginx = await NginxDaemon.StartAsync(title: "Fixture <Title> & more", cancellationToken: DaemonAssert.Ct);

        var response = await WireProbe.HttpGetAsync(nginx.EndPoint, "/", DaemonAssert.NetTimeout, DaemonAssert.Ct);

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        Assert.Contains($"\r\nServer: nginx/{nginx.Version}\r\n", response, StringComparison.Ordinal);
        Assert.Contains("<title>Fixture &lt;Title&gt; &amp; more</title>", response, StringComparison.Ordinal);
        Assert.Equal("nginx", nginx.Product);
        await DaemonAssert.BindsOnlyItsAddressAsync(nginx);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_MissingPath_Answers404FromNginx()
    {
        await using var nginx = await NginxDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var response = await WireProbe.HttpGetAsync(nginx.EndPoint, "/no-such-file", DaemonAssert.NetTimeout, DaemonAssert.Ct);

        Assert.StartsWith("HTTP/1.1 404 Not Found\r\n", response, StringComparison.Ordinal);
        Assert.Contains($"<center>nginx/{nginx.Version}</center>", response, StringComparison.Ordinal);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task DisposeAsync_AfterStart_PidGoneAndPortClosed()
    {
        var nginx = await NginxDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        await DaemonAssert.StopsCleanlyAsync(nginx);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_TwoAtOnce_EachServesItsOwnTitle()
    {
        await using var first = await NginxDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        await using var second = await NginxDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        Assert.Contains($"<title>{first.Title}</title>", await WireProbe.HttpGetAsync(first.EndPoint, "/", DaemonAssert.NetTimeout, DaemonAssert.Ct), StringComparison.Ordinal);
        Assert.Contains($"<title>{second.Title}</title>", await WireProbe.HttpGetAsync(second.EndPoint, "/", DaemonAssert.NetTimeout, DaemonAssert.Ct), StringComparison.Ordinal);
        Assert.NotEqual(first.Title, second.Title);
    }
}
