using System.Globalization;
using System.Runtime.InteropServices;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>Raw POSIX signal numbers (Linux values, signal(7)) used to stop daemons.</summary>
public static class UnixSignals
{
    public const int Hup = 1;
    public const int Int = 2;
    public const int Quit = 3;
    public const int Kill = 9;
    public const int Term = 15;
}

/// <summary>One line of /proc/[pid]/stat, reduced to what process identity needs (proc(5)).</summary>
internal readonly record struct ProcStat(int Pid, int ParentPid, char State, ulong StartTime)
{
    /// <summary>A zombie has exited; only its parent's wait() is missing.</summary>
    public bool IsZombie => State is 'Z' or 'X';
}

/// <summary>The few libc calls .NET does not expose: sending an arbitrary signal and reading the effective uid.</summary>
internal static class Posix
{
    private static readonly Lazy<bool> RootLazy = new(() => GetEffectiveUserId() == 0);

    public static bool IsRoot => RootLazy.Value;

    /// <summary>Sends <paramref name="signal"/> to exactly <paramref name="pid"/>; false when it is already gone (ESRCH).</summary>
    public static bool Signal(int pid, int signal)
    {
        // kill(2) with pid <= 0 addresses process groups or every process; never let a bug get there.
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pid, 1);
        return NativeMethods.kill(pid, signal) == 0;
    }

    public static ProcStat? TryReadStat(int pid)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        return TryParseStat(text);
    }

    /// <summary>Parses /proc/[pid]/stat. The comm field (2) may hold spaces and parentheses, so fields are counted after the last ')'.</summary>
    public static ProcStat? TryParseStat(string text)
    {
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var close = text.LastIndexOf(')');
        if (open <= 0 || close < open)
        {
            return null;
        }

        if (!int.TryParse(text.AsSpan(0, open).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }

        // After ')': field 3 (state) is index 0, so field n is index n - 3. ppid is field 4, starttime field 22.
        var rest = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length < 20 || rest[0].Length != 1
            || !int.TryParse(rest[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid)
            || !ulong.TryParse(rest[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            return null;
        }

        return new ProcStat(pid, ppid, rest[0][0], start);
    }

    /// <summary>True while the process that had <paramref name="startTime"/> still runs (guards against pid reuse).</summary>
    public static bool IsAlive(int pid, ulong? startTime = null)
    {
        var stat = TryReadStat(pid);
        return stat is { IsZombie: false } s && (startTime is null || s.StartTime == startTime);
    }

    /// <summary>Every live descendant of <paramref name="pid"/>, found by walking parent links in /proc.</summary>
    public static IReadOnlyList<ProcStat> Descendants(int pid)
    {
        var all = new List<ProcStat>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var candidate)
                && TryReadStat(candidate) is { } stat)
            {
                all.Add(stat);
            }
        }

        var result = new List<ProcStat>();
        var frontier = new Queue<int>();
        frontier.Enqueue(pid);
        while (frontier.Count > 0 && result.Count < 4096)
        {
            var parent = frontier.Dequeue();
            foreach (var child in all.Where(s => s.ParentPid == parent && !s.IsZombie))
            {
                result.Add(child);
                frontier.Enqueue(child.Pid);
            }
        }

        return result;
    }

    private static uint GetEffectiveUserId() => NativeMethods.geteuid();

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks, which TestCommon does not enable; both signatures are blittable.
        internal static extern int kill(int pid, int sig);

        [DllImport("libc")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern uint geteuid();
#pragma warning restore SYSLIB1054
    }
}
