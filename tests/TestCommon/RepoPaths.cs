namespace ExposureIndex.TestCommon;

/// <summary>Locations in the repository and next to it, found from the test binary's folder.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The repository root (the folder holding ExposureIndex.sln).</summary>
    public static string Root => RootLazy.Value;

    /// <summary>MaxMind's test databases, outside the repository (never copied in): ../shared/geoip-test.</summary>
    public static string GeoIpTestData =>
        Environment.GetEnvironmentVariable("EXPOSUREINDEX_GEOIP_TEST_DIR")
        ?? Path.GetFullPath(Path.Combine(Root, "..", "shared", "geoip-test"));

    /// <summary>Debian's python3 with its dist-packages (the pyenv python3 on PATH cannot see them).</summary>
    public const string SystemPython = "/usr/bin/python3";

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "ExposureIndex.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException($"No ExposureIndex.sln above {AppContext.BaseDirectory}.");
    }
}
