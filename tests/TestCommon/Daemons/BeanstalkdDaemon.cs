using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>Debian's beanstalkd work queue in the foreground, no binlog, bound to one private loopback address.</summary>
public sealed class BeanstalkdDaemon : Daemon
{
    public const int WellKnownPort = 11300;

    private BeanstalkdDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("beanstalkd", identity, options, WellKnownPort)
    {
    }

    /// <summary>Version truth from `beanstalkd -v` ("beanstalkd 1.12"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("beanstalkd", "beanstalkd");
        return DaemonIdentity.FromBinary("beanstalkd", exe, ["-v"], @"beanstalkd (\d+(?:\.\d+)+)", "beanstalkd");
    }

    public static async Task<BeanstalkdDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new BeanstalkdDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override DaemonCommand CreateCommand()
        => new(Identity.Executable, ["-l", Address.ToString(), "-p", Port.ToString(CultureInfo.InvariantCulture)]);
}
