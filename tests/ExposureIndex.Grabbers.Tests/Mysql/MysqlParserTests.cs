using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Mysql;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Mysql;

public sealed class MysqlParserTests
{
    private static MysqlParser Create() => new();

    private static MysqlResult ParseAllWays(string fixture)
        => ParserFeeding.AllWays(Create, ProtocolFixtures.Read("Mysql", fixture), canonical: ProtocolFixtures.Canonical);

    [Theory]
    [InlineData("mariadb-10.11.19.bin")]
    [InlineData("mariadb-10.11.19-host-not-allowed.bin")]
    [InlineData("synthetic-mysql-8.0.36.bin")]
    [InlineData("synthetic-too-many-connections.bin")]
    [InlineData("synthetic-mysql-4.0.bin")]
    public void Feed_EveryPrefixOfAFixture_NeedsMore(string fixture)
    {
        var bytes = ProtocolFixtures.Read("Mysql", fixture);
        Assert.Equal(bytes.Length, ParserFeeding.PrefixesBeforeCompletionNeedMore(Create, bytes));
    }

    [Fact]
    public void Feed_MariaDb_HandshakeFields()
    {
        var result = ParseAllWays("mariadb-10.11.19.bin");

        Assert.Equal(10, result.ProtocolVersion);
        Assert.Equal("5.5.5-10.11.19-MariaDB-0+deb12u1", result.ServerVersion);
        Assert.Equal(3U, result.ConnectionId);
        Assert.Equal(8, result.CharacterSet);
        Assert.Equal(2, result.StatusFlags);
        Assert.Equal("mysql_native_password", result.AuthPluginName);
        // MariaDB clears CLIENT_MYSQL (bit 0) and sends its own capabilities in the reserved bytes.
        Assert.Equal(0U, result.Capabilities & MysqlParser.ClientLongPassword);
        Assert.Equal(0x1dU, result.MariaDbCapabilities);
        Assert.False(result.SslSupported);
        Assert.False(result.IsError);
    }

    [Fact]
    public void Feed_HostNotAllowed_ErrPacket()
    {
        var result = ParseAllWays("mariadb-10.11.19-host-not-allowed.bin");

        Assert.True(result.IsError);
        Assert.Equal(1130, result.ErrorCode);
        Assert.Null(result.SqlState);
        Assert.Equal("Host '127.0.0.1' is not allowed to connect to this MariaDB server", result.ErrorMessage);
    }

    [Fact]
    public void Feed_Mysql8_UpperCapabilitiesAndPlugin()
    {
        var result = ParseAllWays("synthetic-mysql-8.0.36.bin");

        Assert.Equal("8.0.36-0ubuntu0.22.04.1", result.ServerVersion);
        Assert.Equal(0xdfffffffU, result.Capabilities);
        Assert.Equal("caching_sha2_password", result.AuthPluginName);
        Assert.Equal(255, result.CharacterSet);
        Assert.True(result.SslSupported);
        Assert.Equal(0U, result.MariaDbCapabilities);
        Assert.Contains("CLIENT_PLUGIN_AUTH", MysqlParser.FlagNames(result.Capabilities, upper: true));
    }

    [Fact]
    public void Feed_TooManyConnections_SqlState()
    {
        var result = ParseAllWays("synthetic-too-many-connections.bin");

        Assert.Equal(1040, result.ErrorCode);
        Assert.Equal("08004", result.SqlState);
        Assert.Equal("Too many connections", result.ErrorMessage);
    }

    [Fact]
    public void Feed_Pre41Handshake_EndsAfterLowerCapabilities()
    {
        var result = ParseAllWays("synthetic-mysql-4.0.bin");

        Assert.Equal("4.0.27", result.ServerVersion);
        Assert.False(result.HasUpperCapabilities);
        Assert.Null(result.AuthPluginName);
    }

    [Fact]
    public void Feed_HugeLength_InvalidWithoutBuffering()
    {
        var parser = Create();

        Assert.Equal(ParseStatus.Invalid, parser.Feed([0xff, 0xff, 0xff, 0x00]));
        Assert.Contains("no MySQL greeting", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_SshBanner_Invalid()
    {
        var parser = Create();

        // "SSH-" read as a header claims 0x485353 bytes: refused before waiting for them.
        Assert.Equal(ParseStatus.Invalid, parser.Feed("SSH-2.0-OpenSSH_9.2p1\r\n"u8));
    }

    [Fact]
    public void Feed_UnknownFirstByte_Invalid()
    {
        var parser = Create();

        Assert.Equal(ParseStatus.Invalid, parser.Feed([3, 0, 0, 0, 0x42, 0x43, 0x44]));
        Assert.Contains("0x42", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void TakeOutgoing_Always_NothingIsSent()
    {
        var commands = ParserFeeding.Commands(Create(), ProtocolFixtures.Read("Mysql", "mariadb-10.11.19.bin"));

        Assert.Empty(commands);
    }

    [Fact]
    public void Describe_MariaDb_ProductVersionFromThePrefixedString()
    {
        var record = new ServiceRecord();

        MysqlGrabber.Describe(record, ParseAllWays("mariadb-10.11.19.bin"));

        Assert.Equal("MariaDB", record.Product);
        Assert.Equal("10.11.19", record.Version);
        Assert.Equal("Debian", record.Os);
        Assert.Equal("cpe:2.3:a:mariadb:mariadb:10.11.19:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.Equal(["database"], record.Tags);
        Assert.Equal("5.5.5-10.11.19-MariaDB-0+deb12u1", record.Mysql.ServerVersion);
        Assert.Equal(3U, record.Mysql.ThreadId);
        Assert.Equal("mysql_native_password", record.Mysql.AuthenticationPlugin);
        Assert.Contains("CLIENT_PROTOCOL_41", record.Mysql.CapabilityFlags);
        Assert.Equal(ProtocolFixtures.Read("Mysql", "mariadb-10.11.19.bin"), record.Data.ToByteArray());
    }

    [Fact]
    public void Describe_HostNotAllowed_MariaDbWithoutVersion()
    {
        var record = new ServiceRecord();

        MysqlGrabber.Describe(record, ParseAllWays("mariadb-10.11.19-host-not-allowed.bin"));

        Assert.Equal("MariaDB", record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal(1130, record.Mysql.ErrorCode);
        Assert.Empty(record.Mysql.CapabilityFlags);
    }

    [Fact]
    public void Describe_Mysql8_ProductMysql()
    {
        var record = new ServiceRecord();

        MysqlGrabber.Describe(record, ParseAllWays("synthetic-mysql-8.0.36.bin"));

        Assert.Equal("MySQL", record.Product);
        Assert.Equal("8.0.36", record.Version);
        Assert.Equal("Ubuntu", record.Os);
        Assert.Equal("cpe:2.3:a:oracle:mysql:8.0.36:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.True(record.Mysql.SslSupported);
        Assert.Equal(0xffffU, record.Mysql.Capabilities);
        Assert.Equal(0xdfffU, record.Mysql.ExtendedServerCapabilities);
    }

    [Theory]
    [InlineData("11.4.2-MariaDB-ubu2404", "MariaDB", "11.4.2")]
    [InlineData("5.7.25-TiDB-v7.5.0", "TiDB", "7.5.0")]
    [InlineData("5.7.44-log", "MySQL", "5.7.44")]
    [InlineData("8.0.35-27", "MySQL", "8.0.35")]
    public void Identify_VersionStrings_ProductAndVersion(string serverVersion, string product, string version)
    {
        var match = MysqlGrabber.Identify(new MysqlResult { Packet = [], ProtocolVersion = 10, ServerVersion = serverVersion });

        Assert.Equal(product, match!.Product);
        Assert.Equal(version, match.Version);
    }
}
