using System.Globalization;
using System.Net;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's Apache httpd (<c>apache2 -DFOREGROUND</c>) with a minimal config of its own: event MPM, authz_core, dir
/// and mime loaded from /usr/lib/apache2/modules, pid file, logs and runtime dir in its temp dir.
/// </summary>
public sealed class ApacheDaemon : Daemon
{
    public const int WellKnownPort = 80;
    private const string ModulesDir = "/usr/lib/apache2/modules";

    private ApacheDaemon(DaemonIdentity identity, DaemonOptions? options, string? title)
        : base("apache2", identity, options, WellKnownPort)
    {
        Title = title ?? $"ExposureIndex test Apache on {Address}";
    }

    /// <summary>The &lt;title&gt; of the served index.html.</summary>
    public string Title { get; }

    /// <summary>The HTML served at "/".</summary>
    public string IndexHtml => $"<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{WebUtility.HtmlEncode(Title)}</title>\n</head>\n<body>\n<h1>{WebUtility.HtmlEncode(Title)}</h1>\n</body>\n</html>\n";

    protected override IEnumerable<string> LogFiles => [PathIn("logs/error.log")];

    /// <summary>Version truth of the installed apache2 (from `apache2 -v`); skips when it is absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("apache2", "apache2");
        return DaemonIdentity.FromBinary("Apache httpd", exe, ["-v"], @"Apache/(\d+\.\d+\.\d+)", "apache2-bin");
    }

    public static async Task<ApacheDaemon> StartAsync(DaemonOptions? options = null, string? title = null, CancellationToken cancellationToken = default)
    {
        var daemon = new ApacheDaemon(Installed(), options, title);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        foreach (var dir in new[] { "htdocs", "logs", "run" })
        {
            Directory.CreateDirectory(PathIn(dir));
        }

        foreach (var module in new[] { "mpm_event", "authz_core", "dir", "mime" })
        {
            Requires.File(Path.Combine(ModulesDir, $"mod_{module}.so"), $"Apache module mod_{module} (package apache2-bin)");
        }

        // Children run as www-data and must reach htdocs/ through the temp dir (created 0700).
        SetUnixMode(TempDirectory, WorldReadable);
        await File.WriteAllTextAsync(PathIn("htdocs/index.html"), IndexHtml, cancellationToken).ConfigureAwait(false);
        // Our own types file keeps the fixture independent of /etc/mime.types.
        await File.WriteAllTextAsync(PathIn("mime.types"), "text/html html htm\ntext/plain txt\n", cancellationToken).ConfigureAwait(false);
        var user = RunningAsRoot ? "User www-data\nGroup www-data\n" : string.Empty;
        var config = string.Create(CultureInfo.InvariantCulture, $$"""
            ServerRoot "{{TempDirectory}}"
            DefaultRuntimeDir "{{PathIn("run")}}"
            PidFile "{{PathIn("apache2.pid")}}"
            LoadModule mpm_event_module {{ModulesDir}}/mod_mpm_event.so
            LoadModule authz_core_module {{ModulesDir}}/mod_authz_core.so
            LoadModule dir_module {{ModulesDir}}/mod_dir.so
            LoadModule mime_module {{ModulesDir}}/mod_mime.so
            {{user}}Listen {{Address}}:{{Port}}
            ServerName {{Address}}
            HostnameLookups Off
            ErrorLog "{{PathIn("logs/error.log")}}"
            LogLevel info
            LogFormat "%h %l %u %t \"%r\" %>s %b" common
            CustomLog "{{PathIn("logs/access.log")}}" common
            StartServers 1
            ServerLimit 2
            ThreadsPerChild 8
            MinSpareThreads 8
            MaxSpareThreads 16
            MaxRequestWorkers 16
            TypesConfig "{{PathIn("mime.types")}}"
            DocumentRoot "{{PathIn("htdocs")}}"
            <Directory />
                Require all denied
            </Directory>
            <Directory "{{PathIn("htdocs")}}">
                Require all granted
            </Directory>
            DirectoryIndex index.html

            """);
        await File.WriteAllTextAsync(PathIn("apache2.conf"), config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand()
        => new(Identity.Executable, ["-d", TempDirectory, "-f", PathIn("apache2.conf"), "-DFOREGROUND"]);
}
