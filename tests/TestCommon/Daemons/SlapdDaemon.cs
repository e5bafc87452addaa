using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's OpenLDAP slapd in the foreground (<c>-d 0</c>) with an old-style slapd.conf in its temp dir: the core
/// schema and one small mdb database (<see cref="Suffix"/>) whose files live in the temp dir too. It listens on
/// ldap://127.x.y.z:port/ only.
/// </summary>
public sealed class SlapdDaemon : Daemon
{
    public const int WellKnownPort = 389;
    public const string Suffix = "dc=exposureindex,dc=test";

    private SlapdDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("slapd", identity, options, WellKnownPort)
    {
    }

    public string ConfigPath => PathIn("slapd.conf");

    /// <summary>Version truth of the installed slapd (from `slapd -VV`: "@(#) $OpenLDAP: slapd 2.5.13+dfsg-5 ..."); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("slapd", "slapd");
        return DaemonIdentity.FromBinary("OpenLDAP", exe, ["-VV"], @"slapd (\d+\.\d+\.\d+)", "slapd");
    }

    public static async Task<SlapdDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new SlapdDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override Task PrepareAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(PathIn("db"));
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            include /etc/ldap/schema/core.schema
            pidfile {PathIn("slapd.pid")}
            argsfile {PathIn("slapd.args")}
            modulepath /usr/lib/ldap
            moduleload back_mdb
            database mdb
            suffix "{Suffix}"
            rootdn "cn=admin,{Suffix}"
            directory {PathIn("db")}
            maxsize 10485760

            """);
        return File.WriteAllTextAsync(ConfigPath, config, cancellationToken);
    }

    // -d 0: stay in the foreground without debug output; -h: this one listener only.
    protected override DaemonCommand CreateCommand()
        => new(Identity.Executable, ["-d", "0", "-h", string.Create(CultureInfo.InvariantCulture, $"ldap://{Address}:{Port}/"), "-f", ConfigPath]);
}
