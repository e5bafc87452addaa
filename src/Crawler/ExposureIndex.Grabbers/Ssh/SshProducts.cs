using System.Text.RegularExpressions;
using ExposureIndex.Contracts;
using ExposureIndex.Grabbers.Http;

namespace ExposureIndex.Grabbers.Ssh;

/// <summary>
/// Product facts from an SSH identification string "SSH-protoversion-softwareversion SP comments" (RFC 4253 §4.2),
/// named as nmap names them: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3" is OpenSSH 9.2p1, info "protocol 2.0",
/// OS Debian.
/// </summary>
internal static partial class SshProducts
{
    // software prefix -> product, CPE vendor, CPE product, implied OS.
    private static readonly (string Prefix, string Product, string Vendor, string CpeProduct, string? Os)[] Known =
    [
        ("OpenSSH_for_Windows", "OpenSSH for Windows", "openbsd", "openssh", "Windows"),
        ("OpenSSH", "OpenSSH", "openbsd", "openssh", null),
        ("dropbear", "Dropbear sshd", "dropbear_ssh_project", "dropbear_ssh", null),
        ("libssh", "libssh", "libssh", "libssh", null),
        ("Cisco", "Cisco SSH", "cisco", "ios", "IOS"),
        ("RomSShell", "Allegro RomSShell SSH", "allegrosoft", "romsshell", null),
        ("mod_sftp", "ProFTPD mod_sftp", "proftpd", "proftpd", null),
        ("AsyncSSH", "AsyncSSH", "asyncssh_project", "asyncssh", null),
        ("paramiko", "Paramiko", "paramiko", "paramiko", null),
        ("WeOnlyDo", "WeOnlyDo sshd", "weonlydo", "wodssh", "Windows"),
        ("Go", "Golang x/crypto/ssh server", "golang", "crypto", null),
        ("ROSSSH", "MikroTik RouterOS sshd", "mikrotik", "routeros", "RouterOS"),
        ("SSHD", "SSHD", "sshd", "sshd", null),
    ];

    private static readonly (string Marker, string Os)[] OsMarkers =
    [
        ("Debian", "Debian"), ("Ubuntu", "Ubuntu"), ("Raspbian", "Raspbian"), ("FreeBSD", "FreeBSD"), ("NetBSD", "NetBSD"),
        ("Gentoo", "Gentoo"), ("SUSE", "SUSE Linux"), ("Fedora", "Fedora"), ("Alpine", "Alpine Linux"),
    ];

    public static bool TryParse(string banner, out ProductMatch product)
    {
        product = null!;
        if (string.IsNullOrEmpty(banner))
        {
            return false;
        }

        Match match;
        try
        {
            match = Identification().Match(banner);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }

        if (!match.Success)
        {
            return false;
        }

        var protocol = match.Groups["proto"].Value;
        var software = match.Groups["software"].Value;
        var comments = match.Groups["comments"].Value;
        var info = "protocol " + protocol;
        string? os = null;
        foreach (var (marker, name) in OsMarkers)
        {
            if (comments.Contains(marker, StringComparison.OrdinalIgnoreCase))
            {
                os = name;
                break;
            }
        }

        foreach (var (prefix, name, vendor, cpeProduct, impliedOs) in Known)
        {
            if (!software.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                || (software.Length > prefix.Length && software[prefix.Length] is not ('_' or '-' or '/') && !char.IsAsciiDigit(software[prefix.Length])))
            {
                continue;
            }

            var rest = software[prefix.Length..].TrimStart('_', '-', '/');
            var version = VersionToken().Match(rest) is { Success: true } v ? v.Value : null;
            product = new ProductMatch(name, version, info, os ?? impliedOs, Cpe.Application(vendor, cpeProduct, version));
            return true;
        }

        // "Name_1.2" / "Name-1.2": the common shape; the product keeps its own name.
        var split = GenericSoftware().Match(software);
        var genericName = split.Success ? split.Groups["name"].Value : software;
        var genericVersion = split.Success && split.Groups["version"].Success ? split.Groups["version"].Value : null;
        if (genericName.Length == 0)
        {
            return false;
        }

        product = new ProductMatch(genericName, genericVersion, info, os, Cpe.Application(genericName, genericName, genericVersion));
        return true;
    }

    [GeneratedRegex(@"^SSH-(?<proto>[0-9.]+)-(?<software>[^\s]+)(?:\s+(?<comments>.*))?$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Identification();

    [GeneratedRegex(@"^[0-9][A-Za-z0-9.+~]*", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex VersionToken();

    [GeneratedRegex(@"^(?<name>[A-Za-z][A-Za-z0-9.]*?)(?:[_-](?<version>[0-9][A-Za-z0-9.+~-]*))?$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex GenericSoftware();
}
