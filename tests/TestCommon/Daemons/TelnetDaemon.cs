using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's telnetd (GNU inetutils) as inetd runs it: inetutils-inetd in the foreground (-d) with a one-line config
/// binding only this fixture's address. Nobody logs in; the fixture exists for the option negotiation telnetd sends.
/// </summary>
public sealed class TelnetDaemon : Daemon
{
    public const int WellKnownPort = 23;

    private readonly string _telnetd;

    private TelnetDaemon(DaemonIdentity identity, string telnetd, DaemonOptions? options)
        : base("telnetd", identity, options, WellKnownPort)
    {
        _telnetd = telnetd;
    }

    /// <summary>Identity of telnetd from `telnetd --version` ("telnetd (GNU inetutils) 2.4"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("telnetd", "telnetd");
        return DaemonIdentity.FromBinary("GNU inetutils telnetd", exe, ["--version"], @"telnetd \(GNU inetutils\) (\d+(?:\.\d+)+)", "telnetd");
    }

    public static async Task<TelnetDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var identity = Installed();
        _ = Requires.Executable("inetutils-inetd", "inetutils-inetd");
        var daemon = new TelnetDaemon(identity, identity.Executable, options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override Task PrepareAsync(CancellationToken cancellationToken)
        => File.WriteAllTextAsync(PathIn("inetd.conf"),
            string.Create(CultureInfo.InvariantCulture, $"{Address}:{Port} stream tcp nowait root {_telnetd} telnetd\n"), cancellationToken);

    protected override DaemonCommand CreateCommand()
        => new(Requires.Which("inetutils-inetd")!, ["-d", "--pidfile=" + PathIn("inetd.pid"), PathIn("inetd.conf")]);
}
