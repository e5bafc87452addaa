using Xunit;

namespace ExposureIndex.TestCommon;

/// <summary>
/// A test that needs something absent skips with a reason (ground rule 5). CI installs everything
/// through ./test.sh, so CI never skips; set EXPOSUREINDEX_NO_SKIP=1 to turn a skip into a failure.
/// </summary>
public static class Requires
{
    private static bool NoSkip => Environment.GetEnvironmentVariable("EXPOSUREINDEX_NO_SKIP") == "1";

    /// <summary>Skips (or fails under EXPOSUREINDEX_NO_SKIP=1) with <paramref name="reason"/>.</summary>
    public static void SkipOrFail(string reason)
    {
        if (NoSkip)
        {
            Assert.Fail($"Required for this test but missing (EXPOSUREINDEX_NO_SKIP=1): {reason}");
        }

        Assert.Skip(reason);
    }

    /// <summary>Returns the full path of an executable, or skips naming the Debian package that provides it.</summary>
    public static string Executable(string name, string debianPackage)
    {
        var path = Which(name);
        if (path is null)
        {
            SkipOrFail($"'{name}' is not installed (apt-get install {debianPackage}; ./test.sh installs it).");
        }

        return path!;
    }

    /// <summary>Returns a file path, or skips saying what is missing.</summary>
    public static string File(string path, string what)
    {
        if (!System.IO.File.Exists(path))
        {
            SkipOrFail($"{what} is missing: {path}");
        }

        return path;
    }

    public static string? Which(string name)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return System.IO.File.Exists(name) ? name : null;
        }

        string[] extra = ["/usr/sbin", "/sbin", "/usr/local/sbin"];
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(extra);
        foreach (var dir in dirs)
        {
            var candidate = Path.Combine(dir, name);
            if (System.IO.File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
