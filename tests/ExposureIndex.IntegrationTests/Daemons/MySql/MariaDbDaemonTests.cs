using System.Text;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Daemons.MySql;

public sealed class MariaDbDaemonTests
{
    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_Handshake_CarriesTheInstalledVersion()
    {
        await using var mariadb = await MariaDbDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var version = await ReadHandshakeVersionAsync(mariadb);

        // MariaDB prefixes "5.5.5-" for old MySQL clients, then "<version>-MariaDB-<Debian revision>".
        Assert.Equal($"5.5.5-{mariadb.Version}-MariaDB-{mariadb.PackageVersion[(mariadb.PackageVersion.LastIndexOf('-') + 1)..]}", version);
        Assert.Equal("MariaDB", mariadb.Product);
        await DaemonAssert.BindsOnlyItsAddressAsync(mariadb);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task DisposeAsync_AfterStart_PidGoneAndPortClosed()
    {
        var mariadb = await MariaDbDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        await DaemonAssert.StopsCleanlyAsync(mariadb);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_TwoAtOnce_BothHandshake()
    {
        await using var first = await MariaDbDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        await using var second = await MariaDbDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        Assert.Contains(first.Version, await ReadHandshakeVersionAsync(first), StringComparison.Ordinal);
        Assert.Contains(second.Version, await ReadHandshakeVersionAsync(second), StringComparison.Ordinal);
    }

    /// <summary>
    /// The server speaks first: a packet (3-byte little-endian length, sequence id) holding HandshakeV10 — protocol
    /// version 10, then the NUL-terminated server version string.
    /// </summary>
    private static async Task<string> ReadHandshakeVersionAsync(MariaDbDaemon mariadb)
    {
        var packet = await WireProbe.ExchangeAsync(
            mariadb.EndPoint,
            ReadOnlyMemory<byte>.Empty,
            b => b.Length >= 4 && b.Length >= 4 + (b.Span[0] | (b.Span[1] << 8) | (b.Span[2] << 16)),
            DaemonAssert.NetTimeout,
            cancellationToken: DaemonAssert.Ct);

        Assert.True(packet.Length > 5, $"short handshake: {WireProbe.Latin1(packet)}");
        Assert.Equal(10, packet[4]);
        var end = Array.IndexOf(packet, (byte)0, 5);
        return Encoding.ASCII.GetString(packet, 5, end - 5);
    }
}
