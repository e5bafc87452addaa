using System.Text.RegularExpressions;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Mysql;

/// <summary>
/// MySQL and MariaDB: reads the initial handshake (server version, connection id, capabilities, character set,
/// status, auth plugin) and closes without sending a login. An ERR packet in its place ("Host … is not allowed to
/// connect") is recorded too. Fills Shodan's <c>mysql</c> section; <c>data</c> is the raw packet, as Shodan shows it.
/// </summary>
internal sealed partial class MysqlGrabber : IGrabber
{
    public string Name => "mysql";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["mysql", "mariadb"];

    public IReadOnlyList<int> Ports { get; } = [3306];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
        => Conversation.GrabAsync(context, Name, new MysqlParser(), Describe, cancellationToken);

    internal static void Describe(ServiceRecord record, MysqlResult result)
    {
        var section = new MysqlSection
        {
            ProtocolVersion = (uint)result.ProtocolVersion,
            ServerVersion = result.ServerVersion,
            ThreadId = result.ConnectionId,
            Capabilities = result.Capabilities & 0xffff,
            ExtendedServerCapabilities = result.Capabilities >> 16,
            ServerLanguage = (uint)result.CharacterSet,
            ServerStatus = (uint)result.StatusFlags,
            AuthenticationPlugin = result.AuthPluginName ?? string.Empty,
            MariadbCapabilities = result.MariaDbCapabilities,
            SslSupported = result.SslSupported,
            ErrorCode = result.ErrorCode ?? 0,
            ErrorMessage = result.ErrorMessage ?? string.Empty,
            SqlState = result.SqlState ?? string.Empty,
        };
        if (!result.IsError)
        {
            section.CapabilityFlags.AddRange(MysqlParser.FlagNames(result.Capabilities, result.HasUpperCapabilities));
        }

        record.Mysql = section;
        record.Data = ByteString.CopyFrom(result.Packet);
        if (Identify(result) is { } product)
        {
            record.Tags.Add("database");
            product.ApplyTo(record);
        }
    }

    /// <summary>
    /// MariaDB 10.x prefixes "5.5.5-" (so that old MySQL clients accept a major version above 5):
    /// "5.5.5-10.11.6-MariaDB-0+deb12u1" is MariaDB 10.11.6; MariaDB 11 dropped the prefix. TiDB says
    /// "5.7.25-TiDB-v7.5.0". Anything else of the form "8.0.36[-suffix]" is MySQL. An ERR packet names the product
    /// in its text ("… to connect to this MariaDB server"), without a version.
    /// </summary>
    internal static ProductMatch? Identify(MysqlResult result)
    {
        if (result.IsError)
        {
            var message = result.ErrorMessage ?? string.Empty;
            return message.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) ? Product("MariaDB", "mariadb", "mariadb", null, null)
                : message.Contains("MySQL", StringComparison.Ordinal) ? Product("MySQL", "oracle", "mysql", null, null)
                : null;
        }

        var v = result.ServerVersion;
        var os = v.Contains("deb", StringComparison.OrdinalIgnoreCase) ? "Debian" : v.Contains("ubuntu", StringComparison.OrdinalIgnoreCase) ? "Ubuntu" : null;
        if (MariaDbVersion().Match(v) is { Success: true } maria)
        {
            return Product("MariaDB", "mariadb", "mariadb", maria.Groups["v"].Value, os);
        }

        if (TiDbVersion().Match(v) is { Success: true } tidb)
        {
            return Product("TiDB", "pingcap", "tidb", tidb.Groups["v"].Value, null);
        }

        if (MySqlVersion().Match(v) is { Success: true } mysql)
        {
            return Product("MySQL", "oracle", "mysql", mysql.Groups["v"].Value, os);
        }

        return null;
    }

    private static ProductMatch Product(string name, string vendor, string product, string? version, string? os)
        => new(name, version, null, os, Cpe.Application(vendor, product, version));

    [GeneratedRegex(@"^(?:5\.5\.5-)?(?<v>\d+\.\d+\.\d+)-MariaDB", RegexOptions.CultureInvariant, 200)]
    private static partial Regex MariaDbVersion();

    [GeneratedRegex(@"-TiDB-v?(?<v>\d+\.\d+\.\d+)", RegexOptions.CultureInvariant, 200)]
    private static partial Regex TiDbVersion();

    [GeneratedRegex(@"^(?<v>\d+\.\d+\.\d+)(?:$|[-_+ ])", RegexOptions.CultureInvariant, 200)]
    private static partial Regex MySqlVersion();
}
