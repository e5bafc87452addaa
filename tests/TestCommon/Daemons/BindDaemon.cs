using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's BIND 9 named in the foreground (<c>-g</c>) as an authoritative-only server for one tiny zone
/// (<see cref="Zone"/>), its config, zone file and keys in its own temp dir. Recursion is off, nothing forwards,
/// NOTIFY is off and rndc's control channel is disabled, so it never sends a query anywhere. It listens on the
/// test address only, over UDP and TCP on the same port; named binds only interface addresses, so the address is
/// put on lo for its lifetime (<see cref="LoopbackAlias"/>). version.bind is left at its default.
/// </summary>
public sealed class BindDaemon : Daemon
{
    public const int WellKnownPort = 53;
    public const string Zone = "exposureindex.test";

    private LoopbackAlias? _alias;

    private BindDaemon(DaemonIdentity identity, DaemonOptions options)
        : base("named", identity, options, WellKnownPort)
    {
    }

    public string ConfigPath => PathIn("named.conf");

    /// <summary>Version truth of the installed named (from `named -v`: "BIND 9.18.24-1-Debian ..."); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("named", "bind9");
        return DaemonIdentity.FromBinary("ISC BIND", exe, ["-v"], @"BIND (\d+\.\d+\.\d+)", "bind9");
    }

    public static async Task<BindDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var identity = Installed();
        options ??= DaemonOptions.Default;
        var address = options.Address ?? Loopback.NextAddress();
        var daemon = new BindDaemon(identity, options with { Address = address, Port = options.Port ?? PickTcpAndUdpPort(address) });
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override IEnumerable<string> LogFiles => [];

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _alias = await LoopbackAlias.AddAsync(Address, cancellationToken).ConfigureAwait(false);
        var dir = TempDirectory;
        var config = string.Create(CultureInfo.InvariantCulture, $$"""
            options {
                directory "{{dir}}";
                pid-file "{{PathIn("named.pid")}}";
                session-keyfile "{{PathIn("session.key")}}";
                managed-keys-directory "{{dir}}";
                listen-on port {{Port}} { {{Address}}; };
                listen-on-v6 { none; };
                recursion no;
                allow-recursion { none; };
                allow-transfer { none; };
                notify no;
                dnssec-validation no;
            };
            controls { };
            zone "{{Zone}}" {
                type primary;
                file "{{PathIn("zone.db")}}";
            };

            """);
        await File.WriteAllTextAsync(ConfigPath, config, cancellationToken).ConfigureAwait(false);
        var zone = $"""
            $TTL 300
            @ IN SOA ns.{Zone}. hostmaster.{Zone}. 1 3600 600 86400 300
            @ IN NS ns
            ns IN A {Address}

            """;
        await File.WriteAllTextAsync(PathIn("zone.db"), zone, cancellationToken).ConfigureAwait(false);
    }

    // -g: foreground, logging to stderr; -n 1: one worker thread is plenty for tests on 2 cores.
    protected override DaemonCommand CreateCommand() => new(Identity.Executable, ["-g", "-n", "1", "-c", ConfigPath]);

    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
        => LogContains("running") && await base.IsReadyAsync(cancellationToken).ConfigureAwait(false);

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

    /// <summary>The well-known port when it is free for both TCP and UDP on the address, else a port free for both.</summary>
    internal static int PickTcpAndUdpPort(IPAddress address, int wellKnownPort = WellKnownPort)
    {
        if (CanBindBoth(address, wellKnownPort))
        {
            return wellKnownPort;
        }

        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = Loopback.FreeTcpPort(address);
            if (CanBindBoth(address, port))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No port free for both TCP and UDP on {address} after 50 attempts.");
    }

    private static bool CanBindBoth(IPAddress address, int port)
    {
        try
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(address, port));
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
