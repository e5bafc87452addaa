using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// One operating-system process we own: started in the foreground (or adopted from a pid file when a daemon insists
/// on forking), its stdout and stderr appended to a log file, stopped by signalling exactly its pid.
/// </summary>
/// <remarks>
/// The program is started through <c>/bin/sh -c 'exec "$@"'</c> so that the shell redirects stdio to the log file and
/// then replaces itself: the pid we hold is the daemon's own, and no pipe can fill up and stall it.
/// </remarks>
public sealed class DaemonProcess : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);
    private readonly Process? _owned;
    private readonly ulong? _startTime;
    private volatile bool _exited;
    private int? _exitCode;
    private bool _disposed;

    private DaemonProcess(Process? owned, int pid, ulong? startTime, string logPath, string description)
    {
        _owned = owned;
        Pid = pid;
        _startTime = startTime;
        LogPath = logPath;
        Description = description;
    }

    public int Pid { get; }

    /// <summary>File receiving the process's stdout and stderr.</summary>
    public string LogPath { get; }

    public string Description { get; }

    /// <summary>True when the process is gone (reaped, or a zombie we cannot reap because it is not our child).</summary>
    public bool HasExited
    {
        get
        {
            if (!_exited)
            {
                if (_owned is not null && !_disposed)
                {
                    if (_owned.HasExited)
                    {
                        _exitCode = _owned.ExitCode;
                        _exited = true;
                    }
                }
                else
                {
                    _exited = !Posix.IsAlive(Pid, _startTime);
                }
            }

            return _exited;
        }
    }

    /// <summary>Exit code once exited, when known (only for processes we started).</summary>
    public int? ExitCode => HasExited ? _exitCode : null;

    /// <summary>Starts <paramref name="command"/> with stdin from /dev/null and stdout+stderr appended to <paramref name="logPath"/>.</summary>
    public static DaemonProcess Start(DaemonCommand command, string logPath, string workingDirectory)
    {
        ArgumentNullException.ThrowIfNull(command);
        var info = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1");
        info.ArgumentList.Add("daemon");
        info.ArgumentList.Add(logPath);
        foreach (var arg in command.ToArgv())
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in command.Environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start '{command}'.");
        var stat = Posix.TryReadStat(process.Id);
        return new DaemonProcess(process, process.Id, stat?.StartTime, logPath, command.ToString());
    }

    /// <summary>
    /// Takes over a daemon that forked away from its launcher, by the pid it wrote to its pid file. Returns null
    /// while the pid file is missing, empty or names a process that is not running.
    /// </summary>
    public static DaemonProcess? TryAdopt(string pidFile, string logPath, string description)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(pidFile).Trim();
        }
        catch (IOException)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 1)
        {
            return null;
        }

        var stat = Posix.TryReadStat(pid);
        return stat is { IsZombie: false } ? new DaemonProcess(null, pid, stat.Value.StartTime, logPath, description) : null;
    }

    /// <summary>True when the process with <paramref name="pid"/> is still running (not gone, not a zombie).</summary>
    public static bool IsRunning(int pid) => Posix.IsAlive(pid);

    /// <summary>Polls until the process is gone; false when <paramref name="timeout"/> passed first.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        // Polled rather than Process.WaitForExitAsync: that also waits for end-of-file on redirected streams, and
        // grandchildren (sshd sessions, nginx workers) may hold them open after the daemon itself is gone.
        var clock = Stopwatch.StartNew();
        while (!HasExited)
        {
            if (clock.Elapsed >= timeout)
            {
                return false;
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to exactly this pid, waits up to <paramref name="grace"/>, then SIGKILLs it.
    /// Children it had forked (per-connection workers) and that outlive it are SIGKILLed too, each checked by start
    /// time so that a reused pid is never touched. Throws if the process survives SIGKILL.
    /// </summary>
    public async Task StopAsync(int signal, TimeSpan grace)
    {
        if (HasExited)
        {
            return;
        }

        var children = Posix.Descendants(Pid);
        Posix.Signal(Pid, signal);
        if (!await WaitForExitAsync(grace).ConfigureAwait(false))
        {
            Posix.Signal(Pid, UnixSignals.Kill);
            if (!await WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"pid {Pid} ({Description}) survived SIGKILL for 10 s.");
            }
        }

        KillSurvivors(children);
    }

    /// <summary>Immediate SIGKILL of the process and its children, for emergency clean-up at process exit.</summary>
    public void KillNow()
    {
        if (HasExited)
        {
            return;
        }

        var children = Posix.Descendants(Pid);
        Posix.Signal(Pid, UnixSignals.Kill);
        KillSurvivors(children);
    }

    /// <summary>The last <paramref name="lines"/> lines of the stdio log (at most the last 64 KiB are read).</summary>
    public string LogTail(int lines = 40) => ReadTail(LogPath, lines);

    public void Dispose()
    {
        _ = HasExited;
        _disposed = true;
        _owned?.Dispose();
    }

    internal static string ReadTail(string path, int lines)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            const int MaxBytes = 64 * 1024;
            if (stream.Length > MaxBytes)
            {
                stream.Seek(-MaxBytes, SeekOrigin.End);
            }

            using var reader = new StreamReader(stream, Encoding.UTF8);
            var all = reader.ReadToEnd().Split('\n');
            var kept = all.Skip(Math.Max(0, all.Length - lines - 1)).Select(l => l.TrimEnd('\r'));
            return string.Join('\n', kept).Trim();
        }
        catch (FileNotFoundException)
        {
            return string.Empty;
        }
        catch (DirectoryNotFoundException)
        {
            return string.Empty;
        }
    }

    private static void KillSurvivors(IReadOnlyList<ProcStat> children)
    {
        foreach (var child in children)
        {
            if (Posix.IsAlive(child.Pid, child.StartTime))
            {
                Posix.Signal(child.Pid, UnixSignals.Kill);
            }
        }
    }
}
