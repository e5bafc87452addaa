using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Daemons.Ftp;

public sealed class VsftpdDaemonTests
{
    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_Greeting_Is220WithTheInstalledVersion()
    {
        await using var ftp = await VsftpdDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var banner = await WireProbe.ReadBannerLineAsync(ftp.EndPoint, DaemonAssert.NetTimeout, DaemonAssert.Ct);

        // RFC 959 §4.2: a 220 reply greets the client; vsftpd's default text is "(vsFTPd <version>)".
        Assert.Equal($"220 (vsFTPd {ftp.Version})", banner);
        Assert.Equal("vsftpd", ftp.Product);
        await DaemonAssert.BindsOnlyItsAddressAsync(ftp);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_AnonymousLogin_IsRefused()
    {
        await using var ftp = await VsftpdDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var dialog = await WireProbe.ExchangeTextAsync(ftp.EndPoint, "USER anonymous\r\nPASS test@example.invalid\r\nQUIT\r\n", "221 ", DaemonAssert.NetTimeout, DaemonAssert.Ct);

        // With anonymous_enable=NO the name is treated as a local account, which does not exist: 331, then 530.
        Assert.Contains("\r\n331 ", dialog, StringComparison.Ordinal);
        Assert.Contains("\r\n530 ", dialog, StringComparison.Ordinal);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task DisposeAsync_AfterStart_PidGoneAndPortClosed()
    {
        var ftp = await VsftpdDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        _ = await WireProbe.ReadBannerLineAsync(ftp.EndPoint, DaemonAssert.NetTimeout, DaemonAssert.Ct);

        await DaemonAssert.StopsCleanlyAsync(ftp);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_TwoAtOnce_BothGreet()
    {
        await using var first = await VsftpdDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        await using var second = await VsftpdDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        Assert.StartsWith("220 ", await WireProbe.ReadBannerLineAsync(first.EndPoint, DaemonAssert.NetTimeout, DaemonAssert.Ct), StringComparison.Ordinal);
        Assert.StartsWith("220 ", await WireProbe.ReadBannerLineAsync(second.EndPoint, DaemonAssert.NetTimeout, DaemonAssert.Ct), StringComparison.Ordinal);
    }
}
