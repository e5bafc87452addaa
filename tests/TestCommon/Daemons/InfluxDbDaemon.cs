using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>Debian's InfluxDB 1.x (influxd) with its HTTP API and RPC on one loopback address, reporting off, data in the temp dir.</summary>
public sealed class InfluxDbDaemon : Daemon
{
    public const int WellKnownPort = 8086;

    private InfluxDbDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("influxdb", identity, options, WellKnownPort)
    {
    }

    /// <summary>Version truth from `influxd version` ("InfluxDB v1.6.7~rc0 (git: ...)"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("influxd", "influxdb");
        return DaemonIdentity.FromBinary("InfluxDB http admin", exe, ["version"], @"InfluxDB v(\d+(?:\.\d+)+\S*)", "influxdb");
    }

    public static async Task<InfluxDbDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new InfluxDbDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var rpc = Loopback.FreeTcpPort(Address);
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            reporting-disabled = true
            bind-address = "{Address}:{rpc}"
            [meta]
              dir = "{PathIn("meta")}"
            [data]
              dir = "{PathIn("data")}"
              wal-dir = "{PathIn("wal")}"
            [http]
              enabled = true
              bind-address = "{Address}:{Port}"
              log-enabled = false
            [monitor]
              store-enabled = false
            [continuous_queries]
              enabled = false

            """);
        await File.WriteAllTextAsync(PathIn("influxdb.conf"), config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable, ["-config", PathIn("influxdb.conf")]);
}
