using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Postgresql;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Postgresql;

public sealed class PostgresqlParserTests
{
    public static TheoryData<string> Fixtures { get; } =
    [
        "postgresql-15.18-ssl-trust-no-role.bin", "postgresql-15.18-ssl-scram.bin", "postgresql-15.18-ssl-md5.bin",
        "postgresql-15.18-ssl-password.bin", "postgresql-15.18-ssl-no-hba-entry.bin", "postgresql-15.18-ssl-hostssl-only.bin",
        "postgresql-15.18-nossl-trust-no-role.bin", "postgresql-15.18-nossl-trust-role-exists.bin", "postgresql-15.18-nossl-scram.bin",
        "postgresql-15.18-nossl-reject.bin", "pgbouncer-1.18.0-md5.bin", "pgbouncer-1.18.0-trust.bin", "pgbouncer-1.18.0-scram-sha-256.bin",
    ];

    private static PostgresqlParser Create() => new();

    private static PostgresqlResult ParseAllWays(string fixture)
        => ParserFeeding.AllWays(Create, ProtocolFixtures.Read("Postgresql", fixture), canonical: ProtocolFixtures.Canonical);

    private static ServiceRecord Describe(string fixture)
    {
        var record = new ServiceRecord();
        PostgresqlGrabber.Describe(record, ParseAllWays(fixture));
        return record;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Feed_EveryPrefixOfAFixture_NeedsMore(string fixture)
    {
        var bytes = ProtocolFixtures.Read("Postgresql", fixture);
        Assert.Equal(bytes.Length, ParserFeeding.PrefixesBeforeCompletionNeedMore(Create, bytes));
    }

    [Fact]
    public void Feed_TrustWithoutTheRole_SslNegotiationAndFatal()
    {
        var result = ParseAllWays("postgresql-15.18-ssl-trust-no-role.bin");

        Assert.True(result.SslSupported);
        Assert.Equal(196608, result.NegotiatedVersion);
        Assert.Equal("3.0", result.NewestProtocol);
        Assert.Equal([PostgresqlParser.ProbeOption], result.UnrecognizedOptions);
        Assert.Equal([0], result.AuthenticationCodes);
        Assert.False(result.AuthRequired);
        Assert.Equal("trust", result.AuthenticationMethod);
        Assert.Equal("FATAL", result.Error!.Severity);
        Assert.Equal("28000", result.Error.Code);
        Assert.Equal("role \"exposureindex\" does not exist", result.Error.Message);
        Assert.Equal("miscinit.c", result.Error.File);
        Assert.Equal("InitializeSessionUserId", result.Error.Routine);
    }

    [Theory]
    [InlineData("postgresql-15.18-ssl-scram.bin", "scram-sha-256", 10)]
    [InlineData("postgresql-15.18-nossl-scram.bin", "scram-sha-256", 10)]
    [InlineData("postgresql-15.18-ssl-md5.bin", "md5", 5)]
    [InlineData("postgresql-15.18-ssl-password.bin", "password", 3)]
    public void Feed_PasswordMethods_AuthRequiredAndNamed(string fixture, string method, int code)
    {
        var result = ParseAllWays(fixture);

        Assert.True(result.AuthRequired);
        Assert.Equal(code, result.CredentialRequest);
        Assert.Equal(method, result.AuthenticationMethod);
        Assert.Null(result.Error);
    }

    [Fact]
    public void Feed_Scram_MechanismsListed()
    {
        Assert.Equal(["SCRAM-SHA-256"], ParseAllWays("postgresql-15.18-nossl-scram.bin").SaslMechanisms);
    }

    [Fact]
    public void Feed_RoleExistsUnderTrust_ParametersAndTerminate()
    {
        var parser = Create();

        var commands = ParserFeeding.Commands(parser, ProtocolFixtures.Read("Postgresql", "postgresql-15.18-nossl-trust-role-exists.bin"));

        Assert.Equal(3, commands.Count);
        Assert.Equal("X\0\0\0\u0004", commands[2]);
        Assert.Equal("15.18 (Debian 15.18-0+deb12u1)", parser.Result!.Parameter("server_version"));
        Assert.Equal("trust", parser.Result.AuthenticationMethod);
        Assert.False(parser.Result.SslSupported);
    }

    [Fact]
    public void TakeOutgoing_SslAccepted_StartupAwaitsANewConnection()
    {
        var parser = Create();
        Assert.Equal(8, parser.TakeOutgoing().Length);

        Assert.Equal(ParseStatus.NeedMore, parser.Feed("S"u8));

        Assert.True(parser.AwaitingReconnect);
        var startup = Encoding.ASCII.GetString(parser.TakeOutgoing().Span);
        Assert.False(parser.AwaitingReconnect);
        Assert.Contains("user\0exposureindex\0", startup, StringComparison.Ordinal);
        Assert.Contains("_pq_.exposureindex_probe\0on\0", startup, StringComparison.Ordinal);
        Assert.DoesNotContain("password", startup, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void TakeOutgoing_SslRefused_StartupOnTheSameConnection()
    {
        var parser = Create();
        parser.TakeOutgoing();

        parser.Feed("N"u8);

        Assert.False(parser.AwaitingReconnect);
        Assert.Equal(PostgresqlParser.StartupMessage, parser.TakeOutgoing().ToArray());
    }

    [Fact]
    public void Feed_HugeMessageLength_InvalidWithoutBuffering()
    {
        var parser = Create();

        Assert.Equal(ParseStatus.Invalid, parser.Feed("NE\u007f\u00ff\u00ff\u00ff"u8.ToArray()));
        Assert.Contains("claims", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_HttpAnswer_Invalid()
    {
        var parser = Create();

        Assert.Equal(ParseStatus.Invalid, parser.Feed("HTTP/1.1 400 Bad Request\r\n"u8));
        Assert.Contains("0x48", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_EndlessNotices_InvalidAtTheMessageCap()
    {
        var parser = Create();
        var status = parser.Feed("N"u8);
        var notice = new byte[] { (byte)'N', 0, 0, 0, 5, 0 };
        for (var i = 0; i < 100_000 && status == ParseStatus.NeedMore; i++)
        {
            status = parser.Feed(notice);
        }

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains("256 messages", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_RoleMissing_PostgreSqlWithoutVersion()
    {
        var record = Describe("postgresql-15.18-nossl-trust-no-role.bin");

        Assert.Equal("PostgreSQL", record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("cpe:2.3:a:postgresql:postgresql:*:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.Equal(["database"], record.Tags);
        Assert.False(record.Postgresql.SslSupported);
        Assert.Equal("3.0", record.Postgresql.ProtocolVersion);
        Assert.Equal("28000", record.Postgresql.Error.Code);
        Assert.Equal(768, record.Postgresql.Error.Line);
        Assert.Contains("Error: FATAL 28000: role \"exposureindex\" does not exist", Encoding.UTF8.GetString(record.Data.Span), StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_Scram_PostgreSqlRecognisedByProtocolNegotiation()
    {
        var record = Describe("postgresql-15.18-ssl-scram.bin");

        Assert.Equal("PostgreSQL", record.Product);
        Assert.True(record.Postgresql.AuthRequired);
        Assert.Equal("scram-sha-256", record.Postgresql.AuthenticationMethod);
        Assert.True(record.Postgresql.SslSupported);
        Assert.Equal(["SCRAM-SHA-256"], record.Postgresql.SaslMechanisms);
    }

    [Fact]
    public void Describe_RoleExists_VersionFromServerVersion()
    {
        var record = Describe("postgresql-15.18-nossl-trust-role-exists.bin");

        Assert.Equal("15.18", record.Version);
        Assert.Equal("Debian", record.Os);
        Assert.Equal("15.18 (Debian 15.18-0+deb12u1)", record.Postgresql.Parameters["server_version"]);
    }

    [Theory]
    [InlineData("pgbouncer-1.18.0-md5.bin")]
    [InlineData("pgbouncer-1.18.0-trust.bin")]
    [InlineData("pgbouncer-1.18.0-scram-sha-256.bin")]
    public void Describe_PgBouncer_ToldApartFromPostgreSql(string fixture)
    {
        var record = Describe(fixture);

        Assert.Equal("PgBouncer", record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("cpe:2.3:a:pgbouncer:pgbouncer:*:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.Equal("08P01", record.Postgresql.Error.Code);
        Assert.Equal(string.Empty, record.Postgresql.Error.File);
    }

    [Fact]
    public void Describe_BareAuthenticationRequest_NamesNoProduct()
    {
        var parser = Create();
        parser.Feed("NR\0\0\0\u0008\0\0\0\u0003"u8);
        var record = new ServiceRecord();

        PostgresqlGrabber.Describe(record, parser.Result!);

        Assert.Equal(string.Empty, record.Product);
        Assert.True(record.Postgresql.AuthRequired);
        Assert.Equal("password", record.Postgresql.AuthenticationMethod);
    }
}
