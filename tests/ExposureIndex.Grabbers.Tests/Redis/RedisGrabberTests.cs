using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Redis;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Redis;

public sealed class RedisGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_ServerWantingAuth_StopsWithoutSendingAuth()
    {
        await using var server = TestServer.Start(async (c, ct) =>
        {
            while ((await c.ReadAsync(ct)) is { Length: > 0 })
            {
                await c.WriteAsync("-NOAUTH Authentication required.\r\n"u8.ToArray(), ct);
            }
        });

        var result = await new RedisGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.True(result.Fragment.Redis.AuthRequired);
        var sent = string.Concat((await server.WaitForReceivedAsync(2)).Select(b => System.Text.Encoding.Latin1.GetString(b)));
        Assert.Equal("*1\r\n$4\r\nINFO\r\n*1\r\n$4\r\nQUIT\r\n", sent);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        Assert.Equal(GrabOutcome.IoTimeout, (await HostilePeers.TarpitAsync(new RedisGrabber())).Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_EndlessBulkString_StopsAtTheByteCap()
    {
        var result = (await HostilePeers.EndlessLineAsync(new RedisGrabber(), "$1000000\r\n")).AssertStoppedEarly();

        Assert.Contains("byte cap", result.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_LineThatNeverEnds_ProtocolError()
    {
        (await HostilePeers.EndlessLineAsync(new RedisGrabber(), "+")).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_BinaryGarbage_ProtocolError()
    {
        Assert.Equal(GrabOutcome.ProtocolError, (await HostilePeers.GarbageAsync(new RedisGrabber())).Result.Outcome);
    }
}
