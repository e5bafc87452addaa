using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's Net-SNMP agent (snmpd) in the foreground (<c>-f</c>) with only its own config (<c>-C -c</c>): one UDP
/// agent address on the test address, community "public" read-only for loopback clients, and known sysContact,
/// sysName and sysLocation values. Persistent state goes to its temp dir; MIB files are not loaded (the agent does
/// not need them). <c>restrictView</c> applies Debian's default "systemonly" view, which hides versionTag.
/// </summary>
public sealed class NetSnmpDaemon : Daemon
{
    public const int WellKnownPort = 161;

    /// <summary>An SNMPv2c GetRequest for sysDescr.0 with community "public" (readiness probe).</summary>
    private static readonly byte[] GetSysDescr = Convert.FromHexString("302602010104067075626c6963a01902010102010002010030" + "0e300c06082b060102010101000500");

    private readonly bool _restrictView;

    private NetSnmpDaemon(DaemonIdentity identity, DaemonOptions options, bool restrictView)
        : base("snmpd", identity, options, WellKnownPort)
        => _restrictView = restrictView;

    public string SysContact => "tests@exposureindex.test";

    public string SysName => $"snmp-{Address.ToString().Replace('.', '-')}";

    public string SysLocation => "ExposureIndex test rack";

    public string ConfigPath => PathIn("snmpd.conf");

    /// <summary>Version truth of the installed snmpd (from `snmpd -v`: "NET-SNMP version:  5.9.3"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("snmpd", "snmpd");
        return DaemonIdentity.FromBinary("Net-SNMP", exe, ["-v"], @"NET-SNMP version:\s+(\d+(?:\.\d+)+)", "snmpd");
    }

    public static async Task<NetSnmpDaemon> StartAsync(DaemonOptions? options = null, bool restrictView = false, CancellationToken cancellationToken = default)
    {
        var identity = Installed();
        options ??= DaemonOptions.Default;
        var address = options.Address ?? Loopback.NextAddress();
        var port = options.Port ?? PickPort(address, WellKnownPort, System.Net.Sockets.ProtocolType.Udp);
        var daemon = new NetSnmpDaemon(identity, options with { Address = address, Port = port }, restrictView);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override Task PrepareAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(PathIn("persist"));
        Directory.CreateDirectory(PathIn("mibs"));
        var access = _restrictView
            ? "view systemonly included .1.3.6.1.2.1.1\nview systemonly included .1.3.6.1.2.1.25.1\nrocommunity public 127.0.0.0/8 -V systemonly"
            : "rocommunity public 127.0.0.0/8";
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            agentaddress udp:{Address}:{Port}
            {access}
            sysContact {SysContact}
            sysName {SysName}
            sysLocation {SysLocation}
            sysServices 72

            """);
        return File.WriteAllTextAsync(ConfigPath, config, cancellationToken);
    }

    // -f foreground, -Lo log to stdout, -C ignore the system's snmpd.conf, -c ours.
    protected override DaemonCommand CreateCommand() => new(Identity.Executable, ["-f", "-Lo", "-C", "-c", ConfigPath])
    {
        Environment = new Dictionary<string, string>
        {
            ["SNMP_PERSISTENT_DIR"] = PathIn("persist"),
            ["MIBDIRS"] = PathIn("mibs"),
            ["MIBS"] = string.Empty,
        },
    };

    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await WireProbe.UdpExchangeAsync(EndPoint, GetSysDescr, TimeSpan.FromMilliseconds(300), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
