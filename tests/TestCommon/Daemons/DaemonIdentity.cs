using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// The version truth for one installed daemon, read from the system (never hard-coded): what a fingerprinter
/// should report for it. <see cref="Version"/> is the upstream version as the daemon shows it on the wire
/// ("9.2p1", "1.22.1"); <see cref="PackageVersion"/> is Debian's full version ("1:9.2p1-2+deb12u10").
/// </summary>
public sealed record DaemonIdentity(string Product, string Version, string PackageVersion, string DebianPackage, string Executable)
{
    private static readonly ConcurrentDictionary<string, Lazy<DaemonIdentity>> Cache = new(StringComparer.Ordinal);

    /// <summary>
    /// Identity of <paramref name="executable"/>: runs it with <paramref name="versionArguments"/> and takes the first
    /// group of <paramref name="versionPattern"/>; the package comes from dpkg. Cached per executable for the process.
    /// </summary>
    /// <param name="runThrough">When set, the version query runs this program with <paramref name="versionArguments"/> instead (e.g. /bin/sh).</param>
    public static DaemonIdentity FromBinary(string product, string executable, IReadOnlyList<string> versionArguments, string versionPattern, string fallbackPackage, string? runThrough = null)
        => Cache.GetOrAdd(executable, _ => new Lazy<DaemonIdentity>(() =>
        {
            var output = Tool.Run(runThrough ?? executable, versionArguments, TimeSpan.FromSeconds(20)).Combined;
            var version = ParseVersion(output, versionPattern)
                ?? throw new InvalidOperationException($"Cannot find a version matching /{versionPattern}/ in the output of '{runThrough ?? executable} {string.Join(' ', versionArguments)}': {ToolResult.Tail(output, 500)}");
            var package = Dpkg.TryOwningPackage(executable) ?? fallbackPackage;
            var packageVersion = Dpkg.TryInstalledVersion(package)
                ?? throw new InvalidOperationException($"dpkg does not list package '{package}' (owner of {executable}) as installed.");
            return new DaemonIdentity(product, version, packageVersion, package, executable);
        })).Value;

    /// <summary>Identity taken from the package version alone, for daemons whose binary prints less than the wire shows.</summary>
    public static DaemonIdentity FromPackage(string product, string executable, string fallbackPackage)
        => Cache.GetOrAdd(executable, _ => new Lazy<DaemonIdentity>(() =>
        {
            var package = Dpkg.TryOwningPackage(executable) ?? fallbackPackage;
            var packageVersion = Dpkg.TryInstalledVersion(package)
                ?? throw new InvalidOperationException($"dpkg does not list package '{package}' (owner of {executable}) as installed.");
            return new DaemonIdentity(product, Dpkg.UpstreamVersion(packageVersion), packageVersion, package, executable);
        })).Value;

    /// <summary>First capture group of <paramref name="pattern"/> in <paramref name="output"/>, or null.</summary>
    public static string? ParseVersion(string output, string pattern)
    {
        ArgumentNullException.ThrowIfNull(output);
        var match = Regex.Match(output, pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        return match.Success && match.Groups.Count > 1 ? match.Groups[1].Value : null;
    }
}

/// <summary>Reads Debian's package database through dpkg-query(1).</summary>
public static class Dpkg
{
    /// <summary>The installed version of <paramref name="package"/>, or null when it is not installed.</summary>
    public static string? TryInstalledVersion(string package)
    {
        if (Requires.Which("dpkg-query") is null)
        {
            return null;
        }

        var result = Tool.Run("dpkg-query", ["-W", "-f=${db:Status-Abbrev}|${Version}", package], TimeSpan.FromSeconds(20));
        if (result.ExitCode != 0)
        {
            return null;
        }

        var parts = result.StandardOutput.Trim().Split('|');
        // "ii " = desired install, currently installed (dpkg-query(1) db:Status-Abbrev).
        return parts.Length == 2 && parts[0].StartsWith("ii", StringComparison.Ordinal) && parts[1].Length > 0 ? parts[1] : null;
    }

    /// <summary>The package that installed <paramref name="path"/> (trying the path as given, then with symlinks resolved).</summary>
    public static string? TryOwningPackage(string path)
    {
        if (Requires.Which("dpkg-query") is null)
        {
            return null;
        }

        var candidates = new List<string> { path };
        var resolved = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName;
        if (resolved is not null)
        {
            candidates.Add(resolved);
        }

        // usrmerge: dpkg may know /sbin/x while the file is reached as /usr/sbin/x, or the other way round.
        candidates.AddRange(candidates.Where(c => c.StartsWith("/usr/", StringComparison.Ordinal)).Select(c => c[4..]).ToList());
        foreach (var candidate in candidates)
        {
            var result = Tool.Run("dpkg-query", ["-S", candidate], TimeSpan.FromSeconds(20));
            var line = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            if (result.ExitCode == 0 && line is not null && line.IndexOf(':', StringComparison.Ordinal) is var colon and > 0)
            {
                // "pkg: /path", or "pkg1, pkg2: /path" for a shared directory; an architecture may follow as "pkg:amd64".
                var package = line[..colon].Split(',')[0].Trim();
                return package.Split(':')[0];
            }
        }

        return null;
    }

    /// <summary>
    /// The upstream part of a Debian version, per deb-version(7): drop the "epoch:" prefix and the last
    /// "-revision" ("1:9.2p1-2+deb12u10" -> "9.2p1"). A native version without a hyphen is returned whole.
    /// </summary>
    public static string UpstreamVersion(string debianVersion)
    {
        ArgumentNullException.ThrowIfNull(debianVersion);
        var version = debianVersion.Trim();
        var colon = version.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0 && version[..colon].All(char.IsAsciiDigit))
        {
            version = version[(colon + 1)..];
        }

        var hyphen = version.LastIndexOf('-');
        return hyphen > 0 ? version[..hyphen] : version;
    }
}
