using System.Globalization;
using System.Security.Cryptography;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's redis-server as <see cref="RedisDaemon"/> starts it, plus <c>requirepass</c> with a random password that
/// no test ever sends: every command but AUTH is refused with NOAUTH.
/// </summary>
public sealed class RedisPasswordDaemon : Daemon
{
    private readonly string _password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    private RedisPasswordDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("redis-auth", identity, options, RedisDaemon.WellKnownPort)
    {
    }

    public static async Task<RedisPasswordDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new RedisPasswordDaemon(RedisDaemon.Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override Task PrepareAsync(CancellationToken cancellationToken)
        // Written to a config file rather than argv, so the password does not show in ps output.
        => File.WriteAllTextAsync(PathIn("redis.conf"), $"requirepass {_password}\n", cancellationToken);

    protected override DaemonCommand CreateCommand() => new(Identity.Executable,
    [
        PathIn("redis.conf"),
        "--bind", Address.ToString(),
        "--port", Port.ToString(CultureInfo.InvariantCulture),
        "--protected-mode", "no",
        "--save", string.Empty,
        "--appendonly", "no",
        "--daemonize", "no",
        "--supervised", "no",
        "--dir", TempDirectory,
        "--logfile", string.Empty,
        "--loglevel", "notice",
    ]);
}
