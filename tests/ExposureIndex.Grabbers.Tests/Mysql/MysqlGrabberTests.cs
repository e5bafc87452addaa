using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Mysql;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Mysql;

public sealed class MysqlGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_ReplayedHandshake_ReadsItAndSendsNothing()
    {
        var handshake = ProtocolFixtures.Read("Mysql", "mariadb-10.11.19.bin");
        await using var server = TestServer.Start(async (c, ct) =>
        {
            await c.WriteAsync(handshake, ct);
            while ((await c.ReadAsync(ct)).Length > 0)
            {
            }
        });

        var result = await new MysqlGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal("MariaDB", result.Fragment.Product);
        Assert.Empty(server.Received);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        Assert.Equal(GrabOutcome.IoTimeout, (await HostilePeers.TarpitAsync(new MysqlGrabber())).Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_SlowDrip_StopsAtTheTotalDeadline()
    {
        // A 16 KiB packet announced, then one byte every 100 ms: only the total deadline ends it.
        var result = await HostilePeers.SlowDripAsync(new MysqlGrabber(), "\u0000\u0040\u0000\u0000\u000a5.7.0", TimeSpan.FromMilliseconds(100));

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_BinaryGarbage_ProtocolError()
    {
        Assert.Equal(GrabOutcome.ProtocolError, (await HostilePeers.GarbageAsync(new MysqlGrabber())).Result.Outcome);
    }
}
