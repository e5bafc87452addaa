using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's NTPsec ntpd in the foreground (<c>-n</c>) with only its own config: no server, pool or peer lines, so it
/// never contacts another host; orphan mode over the local clock; clock discipline disabled (<c>disable ntp
/// kernel</c>), so it never adjusts this machine's clock. It listens on the test address only (interface rules:
/// ignore everything, listen on that address) and answers mode 6 queries from loopback.
/// </summary>
/// <remarks>
/// NTPsec has no option for another port: ntpd always binds 123. That needs root (and the address on lo, since ntpd
/// binds interface addresses), so without root this fixture skips. chrony could bind another port but does not
/// answer mode 6, so it would not reveal a version.
/// </remarks>
public sealed class NtpsecDaemon : Daemon
{
    public const int WellKnownPort = 123;

    /// <summary>A mode 3 (client) request, version 4 (readiness probe).</summary>
    private static readonly byte[] ClientRequest = [0x23, .. new byte[47]];

    private LoopbackAlias? _alias;

    private NtpsecDaemon(DaemonIdentity identity, DaemonOptions options)
        : base("ntpd", identity, options, WellKnownPort)
    {
    }

    public string ConfigPath => PathIn("ntp.conf");

    /// <summary>Version truth of the installed ntpd (from `ntpd --version`: "ntpd ntpsec-1.2.2"); skips when absent or not NTPsec.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("ntpd", "ntpsec");
        return DaemonIdentity.FromBinary("NTPsec", exe, ["--version"], @"ntpsec-(\d+\.\d+\.\d+)", "ntpsec");
    }

    public static async Task<NtpsecDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var identity = Installed();
        if (!Posix.IsRoot)
        {
            Requires.SkipOrFail("NTPsec's ntpd always binds port 123, which needs root");
        }

        options ??= DaemonOptions.Default;
        var daemon = new NtpsecDaemon(identity, options with { Port = WellKnownPort });
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _alias = await LoopbackAlias.AddAsync(Address, cancellationToken).ConfigureAwait(false);
        // Interface rules: the last matching one wins, so ignore everything first, then listen on our address.
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            driftfile {PathIn("ntp.drift")}
            statsdir {TempDirectory}/
            tos orphan 5
            disable ntp kernel
            interface ignore ipv4
            interface ignore ipv6
            interface ignore wildcard
            interface listen {Address}
            restrict default kod limited nomodify noquery
            restrict 127.0.0.0 mask 255.0.0.0 nomodify

            """);
        await File.WriteAllTextAsync(ConfigPath, config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable, ["-n", "-c", ConfigPath]);

    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await WireProbe.UdpExchangeAsync(EndPoint, ClientRequest, TimeSpan.FromMilliseconds(300), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

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
