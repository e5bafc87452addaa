using System.Globalization;
using System.Net;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's nginx in the foreground (<c>-g 'daemon off;'</c>) serving a small index.html with a known title, with
/// its pid, logs and temp paths in its own temp dir.
/// </summary>
public sealed class NginxDaemon : Daemon
{
    public const int WellKnownPort = 80;

    private NginxDaemon(DaemonIdentity identity, DaemonOptions? options, string? title)
        : base("nginx", identity, options, WellKnownPort)
    {
        Title = title ?? $"ExposureIndex test nginx on {Address}";
    }

    /// <summary>The &lt;title&gt; of the served index.html.</summary>
    public string Title { get; }

    /// <summary>The HTML served at "/".</summary>
    public string IndexHtml => $"<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{WebUtility.HtmlEncode(Title)}</title>\n</head>\n<body>\n<h1>{WebUtility.HtmlEncode(Title)}</h1>\n</body>\n</html>\n";

    protected override IEnumerable<string> LogFiles => [PathIn("logs/error.log")];

    /// <summary>Version truth of the installed nginx (from `nginx -v`); skips when it is absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("nginx", "nginx");
        return DaemonIdentity.FromBinary("nginx", exe, ["-v"], @"nginx/(\d+\.\d+\.\d+)", "nginx");
    }

    public static async Task<NginxDaemon> StartAsync(DaemonOptions? options = null, string? title = null, CancellationToken cancellationToken = default)
    {
        var daemon = new NginxDaemon(Installed(), options, title);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        foreach (var dir in new[] { "html", "logs", "temp" })
        {
            Directory.CreateDirectory(PathIn(dir));
        }

        // Workers run as www-data and must reach html/ through the temp dir (created 0700).
        SetUnixMode(TempDirectory, WorldReadable);
        await File.WriteAllTextAsync(PathIn("html/index.html"), IndexHtml, cancellationToken).ConfigureAwait(false);
        var user = RunningAsRoot ? "user www-data;\n" : string.Empty;
        var t = PathIn("temp");
        var config = string.Create(CultureInfo.InvariantCulture, $$"""
            {{user}}worker_processes 1;
            pid {{PathIn("nginx.pid")}};
            error_log {{PathIn("logs/error.log")}} notice;
            events { worker_connections 128; }
            http {
                types { text/html html; text/plain txt; }
                default_type application/octet-stream;
                access_log {{PathIn("logs/access.log")}};
                client_body_temp_path {{t}}/client_body;
                proxy_temp_path {{t}}/proxy;
                fastcgi_temp_path {{t}}/fastcgi;
                uwsgi_temp_path {{t}}/uwsgi;
                scgi_temp_path {{t}}/scgi;
                server {
                    listen {{Address}}:{{Port}};
                    server_name _;
                    root {{PathIn("html")}};
                    index index.html;
                }
            }

            """);
        await File.WriteAllTextAsync(PathIn("nginx.conf"), config, cancellationToken).ConfigureAwait(false);
    }

    // -e: the early error log before the config is read (else nginx tries /var/log/nginx); -p: prefix for relative paths.
    protected override DaemonCommand CreateCommand()
        => new(Identity.Executable, ["-p", TempDirectory + "/", "-e", "stderr", "-c", PathIn("nginx.conf"), "-g", "daemon off;"]);
}
