using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's Mosquitto MQTT broker in the foreground with its own config: one listener on the test address, no
/// persistence, logging to stderr. Anonymous clients are refused unless <c>allowAnonymous</c> is set.
/// </summary>
public sealed class MosquittoDaemon : Daemon
{
    public const int WellKnownPort = 1883;

    private readonly bool _allowAnonymous;

    private MosquittoDaemon(DaemonIdentity identity, DaemonOptions? options, bool allowAnonymous)
        : base("mosquitto", identity, options, WellKnownPort)
        => _allowAnonymous = allowAnonymous;

    public string ConfigPath => PathIn("mosquitto.conf");

    /// <summary>Version truth of the installed mosquitto (from `mosquitto -h`, which prints "mosquitto version X"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("mosquitto", "mosquitto");
        return DaemonIdentity.FromBinary("Mosquitto", exe, ["-h"], @"mosquitto version (\d+\.\d+\.\d+)", "mosquitto");
    }

    /// <param name="allowAnonymous">Mosquitto 2's default is false (CONNACK "not authorized" for anonymous clients).</param>
    public static async Task<MosquittoDaemon> StartAsync(DaemonOptions? options = null, bool allowAnonymous = false, CancellationToken cancellationToken = default)
    {
        var daemon = new MosquittoDaemon(Installed(), options, allowAnonymous);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override Task PrepareAsync(CancellationToken cancellationToken)
    {
        // As root, mosquitto drops to the "mosquitto" account after reading its config; it writes nothing afterwards.
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            listener {Port} {Address}
            allow_anonymous {(_allowAnonymous ? "true" : "false")}
            persistence false
            log_dest stderr
            log_type error
            log_type warning
            log_type notice
            log_type information

            """);
        return File.WriteAllTextAsync(ConfigPath, config, cancellationToken);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable, ["-c", ConfigPath]);
}
