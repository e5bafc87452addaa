using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Postgresql;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Postgresql;

public sealed class PostgresqlGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_SslAccepted_StartupGoesOnASecondConnection()
    {
        var transcript = ProtocolFixtures.Read("Postgresql", "postgresql-15.18-ssl-scram.bin");
        await using var server = TestServer.Start(async (c, ct) =>
        {
            var first = await c.ReadAsync(ct);
            if (first.Length == 8)
            {
                // SSLRequest: say 'S', then expect a ClientHello that never comes; the grabber hangs up.
                await c.WriteAsync(transcript.AsMemory(0, 1), ct);
                await c.ReadAsync(ct);
                return;
            }

            await c.WriteAsync(transcript.AsMemory(1), ct);
            await c.ReadAsync(ct);
        });

        var result = await new PostgresqlGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.True(result.Fragment.Postgresql.SslSupported);
        Assert.Equal("scram-sha-256", result.Fragment.Postgresql.AuthenticationMethod);
        Assert.Equal("PostgreSQL", result.Fragment.Product);
        Assert.Equal(2, server.Accepted);
        var sent = await server.WaitForReceivedAsync(2);
        Assert.Equal([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f], sent[0]);
        Assert.Equal(PostgresqlParser.StartupMessage, sent[1]);
        Assert.DoesNotContain(sent, b => b.Length > 0 && b[0] == (byte)'p');
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        Assert.Equal(GrabOutcome.IoTimeout, (await HostilePeers.TarpitAsync(new PostgresqlGrabber())).Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_BinaryGarbage_ProtocolError()
    {
        Assert.Equal(GrabOutcome.ProtocolError, (await HostilePeers.GarbageAsync(new PostgresqlGrabber())).Result.Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_EndlessParameterStatus_ProtocolError()
    {
        var status = "S\0\0\0\u000ca\0bcdef\0"u8.ToArray();
        (await HostilePeers.EndlessLinesAsync(new PostgresqlGrabber(), "N", Encoding.Latin1.GetString(status))).AssertStoppedEarly();
    }
}
