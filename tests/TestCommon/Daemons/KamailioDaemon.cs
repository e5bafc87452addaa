using System.Globalization;
using System.Net.Sockets;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's kamailio SIP server in the foreground (-DD -E), stateless: it answers OPTIONS with 200 and everything
/// else with 403, on UDP and TCP of one loopback address, with DNS lookups off. It never forwards anything.
/// </summary>
public sealed class KamailioDaemon : Daemon
{
    public const int WellKnownPort = 5060;

    private KamailioDaemon(DaemonIdentity identity, DaemonOptions options)
        : base("kamailio", identity, options, WellKnownPort)
    {
    }

    /// <summary>Version truth from `kamailio -v` ("version: kamailio 5.6.3 (x86_64/linux)"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("kamailio", "kamailio");
        return DaemonIdentity.FromBinary("Kamailio SIP Server", exe, ["-v"], @"kamailio (\d+(?:\.\d+)+)", "kamailio");
    }

    public static async Task<KamailioDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= DaemonOptions.Default;
        var address = options.Address ?? Loopback.NextAddress();
        // SIP listens on UDP and TCP at once: the port must be free for both.
        var port = options.Port ?? (PickPort(address, WellKnownPort, ProtocolType.Udp) is var udp && udp == WellKnownPort ? WellKnownPort : Loopback.FreeUdpPort(address));
        var daemon = new KamailioDaemon(Installed(), options with { Address = address, Port = port });
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var modules = new[] { "/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules" }.FirstOrDefault(Directory.Exists)
            ?? throw new DaemonStartException("kamailio's module directory is missing");
        var config = string.Create(CultureInfo.InvariantCulture, $$"""
            #!KAMAILIO
            debug=2
            log_stderror=yes
            children=1
            tcp_children=1
            dns=no
            rev_dns=no
            auto_aliases=no
            listen=udp:{{Address}}:{{Port}}
            listen=tcp:{{Address}}:{{Port}}
            mpath="{{modules}}/"
            loadmodule "sl.so"
            request_route {
                if (method == "OPTIONS") {
                    sl_send_reply("200", "OK");
                    exit;
                }
                sl_send_reply("403", "Forbidden");
                exit;
            }

            """);
        await File.WriteAllTextAsync(PathIn("kamailio.cfg"), config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand()
        => new(Identity.Executable, ["-DD", "-E", "-f", PathIn("kamailio.cfg"), "-P", PathIn("kamailio.pid"), "-Y", TempDirectory, "-w", TempDirectory]);
}
