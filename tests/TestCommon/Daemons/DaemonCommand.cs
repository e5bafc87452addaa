namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// A command line for a daemon or a helper tool. <see cref="RunAsUser"/> names the account a daemon that refuses
/// to run as root is switched to with setpriv(1), which execs in place so the pid stays the daemon's own.
/// </summary>
public sealed record DaemonCommand(string Executable, IReadOnlyList<string> Arguments)
{
    /// <summary>Account to run as when the tests run as root; ignored otherwise (the daemon runs as the current user).</summary>
    public string? RunAsUser { get; init; }

    /// <summary>Extra environment variables for the child.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Executable and arguments after the optional setpriv wrapper.</summary>
    public IReadOnlyList<string> ToArgv()
    {
        if (RunAsUser is null || !Posix.IsRoot)
        {
            return [Executable, .. Arguments];
        }

        // setpriv(1) replaces itself with the program (no fork), unlike runuser/su which stay as the parent.
        return ["/usr/bin/setpriv", $"--reuid={RunAsUser}", $"--regid={RunAsUser}", "--init-groups", "--", Executable, .. Arguments];
    }

    public override string ToString() => string.Join(' ', ToArgv().Select(a => a.Length == 0 || a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
}
