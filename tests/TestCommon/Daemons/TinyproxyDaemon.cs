using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's tinyproxy in the foreground (-d), listening and binding outgoing connections on its own loopback
/// address, allowing only loopback clients. Tests only ask it about itself, never to fetch anything.
/// </summary>
public sealed class TinyproxyDaemon : Daemon
{
    public const int WellKnownPort = 8888;

    private TinyproxyDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("tinyproxy", identity, options, WellKnownPort)
    {
    }

    /// <summary>Version truth from `tinyproxy -v` ("tinyproxy 1.11.1"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("tinyproxy", "tinyproxy");
        return DaemonIdentity.FromBinary("tinyproxy http proxy", exe, ["-v"], @"tinyproxy (\d+(?:\.\d+)+)", "tinyproxy");
    }

    public static async Task<TinyproxyDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new TinyproxyDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override IEnumerable<string> LogFiles => [PathIn("tinyproxy.log")];

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        SetUnixMode(TempDirectory, WorldReadable | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite);
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            User nobody
            Group nogroup
            Port {Port}
            Listen {Address}
            Bind {Address}
            Timeout 10
            MaxClients 16
            Allow 127.0.0.0/8
            LogFile "{PathIn("tinyproxy.log")}"
            PidFile "{PathIn("tinyproxy.pid")}"
            LogLevel Info
            ConnectPort 443

            """);
        await File.WriteAllTextAsync(PathIn("tinyproxy.conf"), config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable, ["-d", "-c", PathIn("tinyproxy.conf")]);
}
