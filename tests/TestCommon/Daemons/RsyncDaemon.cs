using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>Debian's rsync in daemon mode (--daemon --no-detach) with one read-only module over its temp dir.</summary>
public sealed class RsyncDaemon : Daemon
{
    public const int WellKnownPort = 873;

    private RsyncDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("rsyncd", identity, options, WellKnownPort)
    {
    }

    /// <summary>
    /// Identity from `rsync --version`. The daemon's greeting carries only the protocol version, so
    /// <see cref="ProtocolVersion"/> (read from the same output) is what a scanner can see on the wire.
    /// </summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("rsync", "rsync");
        return DaemonIdentity.FromBinary("rsync", exe, ["--version"], @"rsync\s+version (\d+(?:\.\d+)+)", "rsync");
    }

    /// <summary>The protocol version the greeting announces (`rsync --version`: "protocol version 32").</summary>
    public static string ProtocolVersion()
    {
        var exe = Requires.Executable("rsync", "rsync");
        return DaemonIdentity.ParseVersion(Tool.Run(exe, ["--version"], TimeSpan.FromSeconds(20)).Combined, @"protocol version (\d+)")
            ?? throw new InvalidOperationException("`rsync --version` does not name a protocol version");
    }

    public static async Task<RsyncDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new RsyncDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(PathIn("share"));
        var config = $"pid file = {PathIn("rsyncd.pid")}\nuse chroot = no\nreverse lookup = no\nmax connections = 16\n[share]\n  path = {PathIn("share")}\n  read only = yes\n  comment = ExposureIndex test module\n";
        await File.WriteAllTextAsync(PathIn("rsyncd.conf"), config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable,
        ["--daemon", "--no-detach", "--address=" + Address, "--port=" + Port.ToString(CultureInfo.InvariantCulture), "--config=" + PathIn("rsyncd.conf"), "--log-file=" + PathIn("rsyncd.log")]);

    protected override IEnumerable<string> LogFiles => [PathIn("rsyncd.log")];
}
