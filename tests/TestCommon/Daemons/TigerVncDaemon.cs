using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// TigerVNC's Xvnc (Debian's tigervnc-standalone-server): a virtual X display whose VNC listener is bound to the
/// test address and port (<c>-interface</c>, <c>-rfbport</c>); X11 only on its abstract local socket, which an empty
/// authority file closes to every client (no TCP, no /tmp/.X11-unix socket).
/// The display number is picked where no X lock file exists. <c>securityTypes</c> is passed through; with VncAuth
/// a password file made by <c>vncpasswd -f</c> in the temp dir is used, so nothing ever prompts.
/// </summary>
public sealed class TigerVncDaemon : Daemon
{
    public const int WellKnownPort = 5900;

    private static int _displays;
    private readonly string _securityTypes;

    private TigerVncDaemon(DaemonIdentity identity, DaemonOptions? options, string securityTypes)
        : base("xvnc", identity, options, WellKnownPort)
    {
        _securityTypes = securityTypes;
        Display = PickDisplay();
    }

    /// <summary>The X display number (":N").</summary>
    public int Display { get; }

    /// <summary>The VNC password when VncAuth is among the security types.</summary>
    public string Password => "exposure";

    /// <summary>Version truth of the installed Xvnc (from `Xvnc -version`: "Xvnc TigerVNC 1.12.0 ..."); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("Xvnc", "tigervnc-standalone-server");
        return DaemonIdentity.FromBinary("TigerVNC", exe, ["-version"], @"TigerVNC (\d+\.\d+\.\d+)", "tigervnc-standalone-server");
    }

    /// <param name="securityTypes">Xvnc's -SecurityTypes list, e.g. "VncAuth,TLSVnc" (TigerVNC offers VeNCrypt for the TLS ones) or "None".</param>
    public static async Task<TigerVncDaemon> StartAsync(DaemonOptions? options = null, string securityTypes = "VncAuth,TLSVnc", CancellationToken cancellationToken = default)
    {
        var daemon = new TigerVncDaemon(Installed(), options, securityTypes);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        await File.WriteAllBytesAsync(PathIn("Xauthority"), [], cancellationToken).ConfigureAwait(false);
        if (_securityTypes.Contains("Vnc", StringComparison.OrdinalIgnoreCase) || _securityTypes.Contains("Plain", StringComparison.OrdinalIgnoreCase))
        {
            var vncpasswd = Requires.Executable("vncpasswd", "tigervnc-tools");
            // vncpasswd -f reads the password on stdin and writes the obfuscated file to stdout; a shell wires both.
            (await Tool.RunAsync(
                new DaemonCommand("/bin/sh", ["-c", "printf '%s\\n' \"$1\" | \"$2\" -f > \"$3\"", "sh", Password, vncpasswd, PathIn("passwd")]),
                TimeSpan.FromSeconds(30),
                TempDirectory,
                cancellationToken).ConfigureAwait(false)).EnsureSuccess();
        }
    }

    protected override DaemonCommand CreateCommand()
    {
        List<string> args =
        [
            ":" + Display.ToString(CultureInfo.InvariantCulture),
            "-rfbport", Port.ToString(CultureInfo.InvariantCulture),
            "-interface", Address.ToString(),
            "-SecurityTypes", _securityTypes,
            "-geometry", "640x480",
            "-depth", "16",
            "-nolisten", "tcp",
            "-nolisten", "unix",
            // The X server needs one listener: the abstract "local" socket stays, closed to every client by an
            // empty authority file (no cookie matches).
            "-auth", PathIn("Xauthority"),
            "-desktop", "exposureindex-test",
        ];
        if (File.Exists(PathIn("passwd")))
        {
            args.AddRange(["-PasswordFile", PathIn("passwd")]);
        }

        return new DaemonCommand(Identity.Executable, args);
    }

    /// <summary>A display number with no lock file, starting from a point spread by pid and by instance so parallel runs rarely meet.</summary>
    private static int PickDisplay()
    {
        var start = (Environment.ProcessId % 400) + Interlocked.Increment(ref _displays);
        for (var i = 0; i < 400; i++)
        {
            var display = 100 + ((start + i) % 400);
            if (!File.Exists($"/tmp/.X{display}-lock") && !File.Exists($"/tmp/.X11-unix/X{display}"))
            {
                return display;
            }
        }

        throw new InvalidOperationException("No free X display number between :100 and :499.");
    }
}
