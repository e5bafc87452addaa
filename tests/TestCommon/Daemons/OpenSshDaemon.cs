using System.Globalization;
using System.Text;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's OpenSSH server: <c>sshd -D -e -f conf</c> with host keys generated into its temp dir, listening only
/// on its private loopback address. Nobody can log in (no PAM, no passwords, no authorized keys): the fixture
/// exists for banners, key exchange and host keys.
/// </summary>
public sealed class OpenSshDaemon : Daemon
{
    public const int WellKnownPort = 22;

    /// <summary>Host key types generated for every instance (each instance gets its own keys).</summary>
    public static readonly IReadOnlyList<string> HostKeyTypes = ["ed25519", "ecdsa", "rsa"];

    private OpenSshDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("sshd", identity, options, WellKnownPort)
    {
    }

    /// <summary>Public host keys as written by ssh-keygen ("ssh-ed25519 AAAA... comment"), by key type.</summary>
    public IReadOnlyDictionary<string, string> HostPublicKeys { get; private set; } = new Dictionary<string, string>();

    /// <summary>
    /// Version truth of the installed sshd. `sshd -V` prints only "OpenSSH_9.2" while the wire banner says
    /// "OpenSSH_9.2p1", so the version is the upstream part of the openssh-server package version, cross-checked
    /// against `sshd -V`. Skips when sshd is absent.
    /// </summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("sshd", "openssh-server");
        var identity = DaemonIdentity.FromPackage("OpenSSH", exe, "openssh-server");
        var reported = DaemonIdentity.ParseVersion(Tool.Run(exe, ["-V"], TimeSpan.FromSeconds(20)).Combined, @"OpenSSH_(\d+\.\d+)");
        if (reported is null || !identity.Version.StartsWith(reported, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"sshd -V reports OpenSSH_{reported} but package {identity.DebianPackage} is {identity.PackageVersion}.");
        }

        return identity;
    }

    public static async Task<OpenSshDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new OpenSshDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var keygen = Requires.Executable("ssh-keygen", "openssh-client");
        // sshd(8) refuses to start without its privilege-separation directory.
        if (RunningAsRoot && !Directory.Exists("/run/sshd"))
        {
            Directory.CreateDirectory("/run/sshd");
            SetUnixMode("/run/sshd", WorldReadable);
        }

        var publicKeys = new Dictionary<string, string>(StringComparer.Ordinal);
        var config = new StringBuilder();
        config.Append(CultureInfo.InvariantCulture, $"Port {Port}\n");
        config.Append(CultureInfo.InvariantCulture, $"ListenAddress {Address}:{Port}\n");
        config.Append("AddressFamily inet\n");
        foreach (var type in HostKeyTypes)
        {
            var key = PathIn($"ssh_host_{type}_key");
            string[] args = type == "rsa" ? ["-q", "-t", type, "-b", "3072", "-N", string.Empty, "-C", $"exposureindex-test@{Address}", "-f", key] : ["-q", "-t", type, "-N", string.Empty, "-C", $"exposureindex-test@{Address}", "-f", key];
            (await Tool.RunAsync(new DaemonCommand(keygen, args), TimeSpan.FromSeconds(30), TempDirectory, cancellationToken).ConfigureAwait(false)).EnsureSuccess();
            publicKeys[type] = (await File.ReadAllTextAsync(key + ".pub", cancellationToken).ConfigureAwait(false)).Trim();
            config.Append(CultureInfo.InvariantCulture, $"HostKey {key}\n");
        }

        config.Append(CultureInfo.InvariantCulture, $"PidFile {PathIn("sshd.pid")}\n");
        config.Append("""
            UsePAM no
            PermitRootLogin no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            AuthorizedKeysFile none
            StrictModes no
            UseDNS no
            LoginGraceTime 20
            MaxStartups 100:30:200
            PrintMotd no
            LogLevel INFO

            """);
        await File.WriteAllTextAsync(PathIn("sshd_config"), config.ToString(), cancellationToken).ConfigureAwait(false);
        HostPublicKeys = publicKeys;
    }

    // -D: do not detach; -e: log to stderr (our stdio log). sshd must be started by absolute path to re-exec itself.
    protected override DaemonCommand CreateCommand() => new(Identity.Executable, ["-D", "-e", "-f", PathIn("sshd_config")]);
}
