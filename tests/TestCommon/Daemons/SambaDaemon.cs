using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's Samba smbd in the foreground (<c>-F</c>, in its own process group) as a standalone server with its own
/// smb.conf: every state, cache, lock, pid and private directory in its temp dir, one read-only share, printing off,
/// NetBIOS off (no nmbd, no winbind), listening on the test address and port only (<c>bind interfaces only</c>;
/// smbd binds interface addresses, so the address is put on lo for its lifetime). <c>smb1</c> lowers
/// <c>server min protocol</c> to NT1, enabling SMB1.
/// </summary>
public sealed class SambaDaemon : Daemon
{
    public const int WellKnownPort = 445;

    private readonly bool _smb1;
    private LoopbackAlias? _alias;

    private SambaDaemon(DaemonIdentity identity, DaemonOptions? options, bool smb1)
        : base("smbd", identity, options, WellKnownPort)
    {
        _smb1 = smb1;
        var bytes = Address.GetAddressBytes();
        NetbiosName = string.Create(CultureInfo.InvariantCulture, $"EXPOTEST{bytes[1]:X2}{bytes[2]:X2}{bytes[3]:X2}")[..14];
    }

    /// <summary>The server's NetBIOS name (at most 15 characters, upper case).</summary>
    public string NetbiosName { get; }

    public string ConfigPath => PathIn("smb.conf");

    protected override IEnumerable<string> LogFiles => [PathIn("log/log.smbd")];

    /// <summary>Version truth of the installed smbd (from `smbd -V`: "Version 4.17.12-Debian"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("smbd", "samba");
        return DaemonIdentity.FromBinary("Samba", exe, ["-V"], @"Version (\d+\.\d+\.\d+)", "samba");
    }

    public static async Task<SambaDaemon> StartAsync(DaemonOptions? options = null, bool smb1 = false, CancellationToken cancellationToken = default)
    {
        var daemon = new SambaDaemon(Installed(), options, smb1);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _alias = await LoopbackAlias.AddAsync(Address, cancellationToken).ConfigureAwait(false);
        foreach (var dir in new[] { "lock", "state", "cache", "private", "pid", "log", "ncalrpc", "share" })
        {
            Directory.CreateDirectory(PathIn(dir));
        }

        var config = string.Create(CultureInfo.InvariantCulture, $"""
            [global]
              netbios name = {NetbiosName}
              workgroup = EXPOSUREINDEX
              server role = standalone server
              interfaces = {Address}
              bind interfaces only = yes
              smb ports = {Port}
              disable netbios = yes
              {(_smb1 ? "server min protocol = NT1" : "# server min protocol: the default (SMB2_02)")}
              lock directory = {PathIn("lock")}
              state directory = {PathIn("state")}
              cache directory = {PathIn("cache")}
              private dir = {PathIn("private")}
              pid directory = {PathIn("pid")}
              ncalrpc dir = {PathIn("ncalrpc")}
              log file = {PathIn("log/log.%m")}
              passdb backend = tdbsam:{PathIn("private/passdb.tdb")}
              load printers = no
              printing = bsd
              printcap name = /dev/null
              disable spoolss = yes
            [share]
              path = {PathIn("share")}
              read only = yes

            """);
        await File.WriteAllTextAsync(ConfigPath, config, cancellationToken).ConfigureAwait(false);
    }

    // -F keeps smbd in the foreground (our pid). It must keep its own process group (no --no-process-group): on
    // shutdown smbd signals its whole process group, which would otherwise be the test runner's.
    protected override DaemonCommand CreateCommand()
        => new(Identity.Executable, ["-F", "--debug-stdout", "-d", "1", "-s", ConfigPath]);

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
