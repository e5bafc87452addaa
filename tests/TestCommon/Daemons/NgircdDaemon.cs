using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>Debian's ngIRCd in the foreground (-n), no DNS, no ident, no PAM, one listening address.</summary>
public sealed class NgircdDaemon : Daemon
{
    public const int WellKnownPort = 6667;

    private NgircdDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("ngircd", identity, options, WellKnownPort)
    {
    }

    /// <summary>The server name it announces in its numerics.</summary>
    public string ServerName => "irc.exposure.test";

    /// <summary>Version truth from `ngircd --version` ("ngIRCd 26.1-IDENT+..."); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("ngircd", "ngircd");
        return DaemonIdentity.FromBinary("ngircd", exe, ["--version"], @"ngIRCd (\d+(?:\.\d+)*)", "ngircd");
    }

    public static async Task<NgircdDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new NgircdDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        SetUnixMode(TempDirectory, WorldReadable);
        await File.WriteAllTextAsync(PathIn("motd"), "ExposureIndex test IRC server\n", cancellationToken).ConfigureAwait(false);
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            [Global]
            Name = {ServerName}
            Info = ExposureIndex test server
            AdminInfo1 = ExposureIndex tests
            AdminInfo2 = loopback only
            AdminEMail = tests@exposure.invalid
            Listen = {Address}
            Ports = {Port}
            MotdFile = {PathIn("motd")}
            PidFile = {PathIn("ngircd.pid")}
            ServerUID = nobody
            ServerGID = nogroup
            [Limits]
            MaxConnections = 32
            [Options]
            DNS = no
            Ident = no
            PAM = no

            """);
        await File.WriteAllTextAsync(PathIn("ngircd.conf"), config, cancellationToken).ConfigureAwait(false);
        SetUnixMode(PathIn("ngircd.conf"), WorldReadable);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable, ["-n", "-f", PathIn("ngircd.conf")]);
}
