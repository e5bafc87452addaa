using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Postgresql;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Postgresql;

/// <summary>The PostgreSQL grabber against Debian's PostgreSQL and PgBouncer.</summary>
public sealed class PostgresqlGrabberDaemonTests
{
    private static GrabContext Context(IPEndPoint endPoint) => new()
    {
        Target = new GrabTarget(endPoint.Address, endPoint.Port, Transport.Tcp),
        Limits = new GrabLimits(),
        Network = SocketGrabNetwork.Instance,
    };

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_PostgreSql_ProductNoGuessedVersionAndTheStartupError()
    {
        await using var postgres = await PostgresDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new PostgresqlGrabber().GrabAsync(Context(postgres.EndPoint), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{postgres.LogTail()}");
        var record = result.Fragment;
        Assert.Equal(postgres.Product, record.Product);
        // PostgreSQL tells no version before authentication, and the grabber does not guess one.
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("cpe:2.3:a:postgresql:postgresql:*:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.Contains("database", record.Tags);
        Assert.False(record.Postgresql.SslSupported);
        Assert.Equal("3.0", record.Postgresql.ProtocolVersion);
        Assert.Equal([PostgresqlParser.ProbeOption], record.Postgresql.UnrecognizedOptions);
        // The fixture trusts 127.0.0.0/8, so the server gets as far as looking up our made-up role.
        Assert.Equal("trust", record.Postgresql.AuthenticationMethod);
        Assert.Equal("28000", record.Postgresql.Error.Code);
        Assert.Equal($"role \"{PostgresqlParser.ProbeUser}\" does not exist", record.Postgresql.Error.Message);
        Assert.Equal("FATAL", record.Postgresql.Error.Severity);
        Assert.NotEqual(string.Empty, record.Postgresql.Error.File);
        Assert.Empty(record.Postgresql.Parameters);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_PgBouncer_ToldApartFromPostgreSql()
    {
        await using var pgbouncer = await PgBouncerDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new PostgresqlGrabber().GrabAsync(Context(pgbouncer.EndPoint), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{pgbouncer.LogTail()}");
        var record = result.Fragment;
        Assert.Equal(pgbouncer.Product, record.Product);
        // PgBouncer names no version before login either.
        Assert.Equal(string.Empty, record.Version);
        Assert.False(record.Postgresql.SslSupported);
        Assert.Equal("08P01", record.Postgresql.Error.Code);
        Assert.Equal(string.Empty, record.Postgresql.Error.File);
        Assert.False(record.Postgresql.AuthRequired);
    }
}
