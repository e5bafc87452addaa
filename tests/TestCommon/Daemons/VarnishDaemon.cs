using System.Globalization;
using System.Net;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's varnishd in the foreground (-F), no management port (-T none), a small malloc store, its work dir in
/// the temp dir, and a backend on this fixture's own loopback address where nothing listens (so a request for
/// itself ends in its own 503 page; it never reaches anything else).
/// </summary>
public sealed class VarnishDaemon : Daemon
{
    public const int WellKnownPort = 6081;

    private VarnishDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("varnish", identity, options, WellKnownPort)
    {
    }

    /// <summary>
    /// Identity from `varnishd -V` ("varnish-7.1.1 revision ..."). Varnish shows only major.minor on the wire
    /// (Via: 1.1 varnish (Varnish/7.1)), so <see cref="DaemonIdentity.Version"/> is that part.
    /// </summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("varnishd", "varnish");
        return DaemonIdentity.FromBinary("Varnish http accelerator", exe, ["-V"], @"varnish-(\d+\.\d+)\.\d+", "varnish");
    }

    public static async Task<VarnishDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new VarnishDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override Task PrepareAsync(CancellationToken cancellationToken)
    {
        SetUnixMode(TempDirectory, WorldReadable | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite);
        return Task.CompletedTask;
    }

    protected override DaemonCommand CreateCommand()
    {
        // The backend: this fixture's own address, a port nothing listens on (the listening port's neighbour).
        var backend = new IPEndPoint(Address, Port == 65535 ? Port - 1 : Port + 1);
        return new(Identity.Executable,
        [
            "-F", "-a", string.Create(CultureInfo.InvariantCulture, $"{Address}:{Port}"),
            "-b", string.Create(CultureInfo.InvariantCulture, $"{backend.Address}:{backend.Port}"),
            "-n", PathIn("work"), "-T", "none", "-s", "malloc,16m", "-p", "thread_pool_min=5", "-p", "thread_pool_max=20",
        ]);
    }
}
