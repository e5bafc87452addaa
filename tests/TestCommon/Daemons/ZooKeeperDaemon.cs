using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's ZooKeeper, standalone (ZooKeeperServerMain) on a JVM with a small heap, its client port on one
/// loopback address, the admin server off, data in the temp dir. Only "srvr" of the four-letter words is enabled.
/// </summary>
public sealed class ZooKeeperDaemon : Daemon
{
    public const int WellKnownPort = 2181;
    private const string Jar = "/usr/share/java/zookeeper.jar";

    private ZooKeeperDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("zookeeper", identity, options, WellKnownPort)
    {
    }

    /// <summary>ZooKeeper's version from its package (the jar has no --version); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        Requires.File(Jar, "ZooKeeper (apt-get install zookeeperd)");
        _ = Requires.Executable("java", "default-jre-headless");
        return DaemonIdentity.FromPackage("Apache ZooKeeper", Jar, "zookeeper");
    }

    public static async Task<ZooKeeperDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        // A JVM on two shared cores takes a while to come up.
        options ??= DaemonOptions.Default;
        var daemon = new ZooKeeperDaemon(Installed(), options with { StartTimeout = options.StartTimeout < TimeSpan.FromSeconds(90) ? TimeSpan.FromSeconds(90) : options.StartTimeout });
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(PathIn("data"));
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            tickTime=2000
            dataDir={PathIn("data")}
            clientPort={Port}
            clientPortAddress={Address}
            admin.enableServer=false
            4lw.commands.whitelist=srvr
            maxClientCnxns=32

            """);
        await File.WriteAllTextAsync(PathIn("zoo.cfg"), config, cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(PathIn("log4j.properties"), "log4j.rootLogger=WARN, CONSOLE\nlog4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\nlog4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n", cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand()
    {
        var classpath = string.Join(':', new[] { TempDirectory, Jar }.Concat(
            new[] { "slf4j-api.jar", "log4j-1.2.jar", "slf4j-log4j12.jar", "netty.jar", "jline.jar" }.Select(j => Path.Combine("/usr/share/java", j)).Where(File.Exists)));
        return new(Requires.Which("java")!, ["-Xmx128m", "-Xss512k", "-XX:+UseSerialGC", "-Dzookeeper.admin.enableServer=false", "-cp", classpath, "org.apache.zookeeper.server.ZooKeeperServerMain", PathIn("zoo.cfg")]);
    }
}
