using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's RabbitMQ (rabbitmq-server in the foreground) with AMQP on one loopback address, its own Erlang node
/// name, cookie dir, mnesia and logs in the temp dir, the Erlang distribution on loopback and an epmd of its own
/// on a private port (stopped with the broker). No plugins, no users but the built-in one limited to loopback.
/// </summary>
public sealed class RabbitMqDaemon : Daemon
{
    public const int WellKnownPort = 5672;

    private readonly int _epmdPort;
    private readonly int _distPort;

    private RabbitMqDaemon(DaemonIdentity identity, DaemonOptions options)
        : base("rabbitmq", identity, options, WellKnownPort)
    {
        _epmdPort = Loopback.FreeTcpPort(System.Net.IPAddress.Loopback);
        _distPort = Loopback.FreeTcpPort(System.Net.IPAddress.Loopback);
    }

    /// <summary>RabbitMQ's version from its package (the broker prints it only once running); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.File("/usr/lib/rabbitmq/bin/rabbitmq-server", "RabbitMQ (apt-get install rabbitmq-server)");
        return DaemonIdentity.FromPackage("RabbitMQ", exe, "rabbitmq-server");
    }

    public static async Task<RabbitMqDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        // The Erlang VM and the broker's boot steps take tens of seconds on two shared cores.
        options ??= DaemonOptions.Default;
        var daemon = new RabbitMqDaemon(Installed(), options with { StartTimeout = options.StartTimeout < TimeSpan.FromSeconds(120) ? TimeSpan.FromSeconds(120) : options.StartTimeout });
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override IEnumerable<string> LogFiles => Directory.Exists(PathIn("log")) ? Directory.GetFiles(PathIn("log"), "*.log") : [];

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        foreach (var dir in new[] { "home", "mnesia", "log" })
        {
            Directory.CreateDirectory(PathIn(dir));
        }

        var config = string.Create(CultureInfo.InvariantCulture, $"""
            listeners.tcp.default = {Address}:{Port}
            loopback_users.guest = true
            log.console = true
            log.file = false

            """);
        await File.WriteAllTextAsync(PathIn("rabbitmq.conf"), config, cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(PathIn("enabled_plugins"), "[].\n", cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new("/usr/lib/rabbitmq/bin/rabbitmq-server", [])
    {
        Environment = new Dictionary<string, string>
        {
            ["HOME"] = PathIn("home"),
            ["RABBITMQ_CONFIG_FILE"] = PathIn("rabbitmq.conf"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = PathIn("enabled_plugins"),
            ["RABBITMQ_NODENAME"] = string.Create(CultureInfo.InvariantCulture, $"exposure{Port}@localhost"),
            ["RABBITMQ_MNESIA_BASE"] = PathIn("mnesia"),
            ["RABBITMQ_LOG_BASE"] = PathIn("log"),
            ["RABBITMQ_PID_FILE"] = PathIn("rabbitmq.pid"),
            ["RABBITMQ_DIST_PORT"] = _distPort.ToString(CultureInfo.InvariantCulture),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["ERL_EPMD_PORT"] = _epmdPort.ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
        },
    };

    protected override async ValueTask DisposeAsyncCore()
    {
        try
        {
            await base.DisposeAsyncCore().ConfigureAwait(false);
        }
        finally
        {
            // epmd daemonizes away from the broker; stop exactly the one on our private port.
            if (Requires.Which("epmd") is { } epmd)
            {
                await Tool.RunAsync(new DaemonCommand(epmd, ["-port", _epmdPort.ToString(CultureInfo.InvariantCulture), "-kill"]), TimeSpan.FromSeconds(15)).ConfigureAwait(false);
            }
        }
    }
}
