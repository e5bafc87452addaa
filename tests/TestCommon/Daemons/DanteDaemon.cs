using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's Dante SOCKS server (danted) in the foreground with one process. Clients from loopback may talk to it,
/// but every SOCKS request is blocked by its rules: it answers the method negotiation and never relays anything.
/// Dante binds only addresses it finds on an interface, so the test address goes on lo for its lifetime.
/// </summary>
public sealed class DanteDaemon : Daemon
{
    public const int WellKnownPort = 1080;

    private LoopbackAlias? _alias;

    private DanteDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("danted", identity, options, WellKnownPort)
    {
    }

    /// <summary>Version truth from `danted -v` ("Dante v1.4.2"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("danted", "dante-server");
        return DaemonIdentity.FromBinary("Dante", exe, ["-v"], @"Dante v(\d+(?:\.\d+)+)", "dante-server");
    }

    public static async Task<DanteDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new DanteDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override IEnumerable<string> LogFiles => [PathIn("danted.log")];

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _alias = await LoopbackAlias.AddAsync(Address, cancellationToken).ConfigureAwait(false);
        SetUnixMode(TempDirectory, WorldReadable | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite);
        var config = string.Create(CultureInfo.InvariantCulture, $$"""
            logoutput: {{PathIn("danted.log")}}
            internal: {{Address}} port = {{Port}}
            external: {{Address}}
            clientmethod: none
            socksmethod: none
            user.privileged: root
            user.unprivileged: nobody
            client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
            socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 log: connect error }

            """);
        await File.WriteAllTextAsync(PathIn("danted.conf"), config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand()
        => new(Identity.Executable, ["-f", PathIn("danted.conf"), "-N", "1", "-p", PathIn("danted.pid")]);

    protected override async ValueTask DisposeAsyncCore()
    {
        try
        {
            await base.DisposeAsyncCore().ConfigureAwait(false);
        }
        finally
        {
            if (_alias is not null)
            {
                await _alias.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
