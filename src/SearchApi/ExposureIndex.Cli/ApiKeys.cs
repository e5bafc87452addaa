using System.Security.Cryptography;

namespace ExposureIndex.Cli;

/// <summary>
/// Where the CLI finds an API key when none is given: --api-key, then $EXPOSURE_API_KEY, then the key file that
/// `serve`/`demo` write into their data directory (so a fresh `./exposure demo` and `./exposure search` just work).
/// </summary>
internal static class ApiKeys
{
    public const string FileName = "api-key";

    public static string? Resolve(string? given, string dataDirectory)
    {
        if (!string.IsNullOrWhiteSpace(given))
        {
            return given.Trim();
        }

        var env = Environment.GetEnvironmentVariable("EXPOSURE_API_KEY");
        if (!string.IsNullOrWhiteSpace(env))
        {
            return env.Trim();
        }

        var path = Path.Combine(dataDirectory, FileName);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    /// <summary>The server's key: given, else the one in the data directory, else a new random one saved there (mode 0600).</summary>
    public static string ForServer(string? given, string dataDirectory)
    {
        var existing = Resolve(given, dataDirectory);
        if (existing is not null)
        {
            return existing;
        }

        Directory.CreateDirectory(dataDirectory);
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var path = Path.Combine(dataDirectory, FileName);
        File.WriteAllText(path, key + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return key;
    }
}
