using ExposureIndex.Grabbers.Postgresql;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Postgresql;

/// <summary>The PostgreSQL grabber against Debian's PostgreSQL and PgBouncer.</summary>
public sealed class PostgresqlGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_PostgreSql_ProductNoGuessedVersionAndTheStartupError()
    {
        await using var postgres = await PostgresDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new PostgresqlGrabber(), postgres);

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

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_PgBouncer_ToldApartFromPostgreSql()
    {
        await using var pgbouncer = await PgBouncerDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new PostgresqlGrabber(), pgbouncer);

        Assert.Equal(pgbouncer.Product, record.Product);
        // PgBouncer names no version before login either.
        Assert.Equal(string.Empty, record.Version);
        Assert.False(record.Postgresql.SslSupported);
        Assert.Equal("08P01", record.Postgresql.Error.Code);
        Assert.Equal(string.Empty, record.Postgresql.Error.File);
        Assert.False(record.Postgresql.AuthRequired);
    }
}
