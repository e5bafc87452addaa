using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's nginx serving HTTPS only: a leaf certificate (EC P-256, SANs for a DNS name and the listen address)
/// issued by a throwaway test CA (RSA 2048), both generated with openssl(1) into the temp dir, the chain file
/// holding leaf then CA. TLS 1.2 and 1.3 only, so the accepted versions are known. Serves index.html with a
/// known title from <see cref="HtmlDirectory"/>, where tests may drop more files (favicon.ico, robots.txt).
/// </summary>
public sealed class NginxTlsDaemon : Daemon
{
    public const int WellKnownPort = 443;

    /// <summary>The DNS name in the leaf's subject CN and SAN.</summary>
    public const string ServerName = "test.exposureindex.invalid";

    /// <summary>The ssl_protocols configured, in OpenSSL's spelling.</summary>
    public static readonly IReadOnlyList<string> Protocols = ["TLSv1.2", "TLSv1.3"];

    private NginxTlsDaemon(DaemonIdentity identity, DaemonOptions? options, string? title)
        : base("nginx-tls", identity, options, WellKnownPort)
    {
        Title = title ?? $"ExposureIndex test nginx TLS on {Address}";
        // A serial with the high bit set: DER pads it with a zero byte that printed forms leave out.
        LeafSerialHex = "8" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(15))[1..];
    }

    public string Title { get; }

    /// <summary>The leaf certificate's serial as given to openssl (hex, 30 digits, high bit set).</summary>
    public string LeafSerialHex { get; }

    /// <summary>PEM file of the leaf certificate.</summary>
    public string LeafCertificatePath => PathIn("leaf.crt");

    /// <summary>PEM file of the test CA certificate.</summary>
    public string CaCertificatePath => PathIn("ca.crt");

    /// <summary>nginx's document root.</summary>
    public string HtmlDirectory => PathIn("html");

    public string IndexHtml => $"<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{WebUtility.HtmlEncode(Title)}</title>\n</head>\n<body>\n<h1>{WebUtility.HtmlEncode(Title)}</h1>\n</body>\n</html>\n";

    protected override IEnumerable<string> LogFiles => [PathIn("logs/error.log")];

    public static DaemonIdentity Installed() => NginxDaemon.Installed();

    public static async Task<NginxTlsDaemon> StartAsync(DaemonOptions? options = null, string? title = null, CancellationToken cancellationToken = default)
    {
        Requires.Executable("openssl", "openssl");
        var daemon = new NginxTlsDaemon(Installed(), options, title);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var openssl = Requires.Executable("openssl", "openssl");
        foreach (var dir in new[] { "html", "logs", "temp" })
        {
            Directory.CreateDirectory(PathIn(dir));
        }

        async Task Run(params string[] args)
            => (await Tool.RunAsync(new DaemonCommand(openssl, args), TimeSpan.FromSeconds(60), TempDirectory, cancellationToken).ConfigureAwait(false)).EnsureSuccess();

        await Run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", PathIn("ca.key"), "-out", PathIn("ca.crt"), "-days", "30",
            "-subj", "/C=DE/O=ExposureIndex Tests/CN=ExposureIndex Test CA").ConfigureAwait(false);
        await Run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", PathIn("leaf.key"), "-out", PathIn("leaf.csr"),
            "-subj", $"/C=DE/ST=Berlin/L=Berlin/O=ExposureIndex Tests/OU=Grabbers/CN={ServerName}").ConfigureAwait(false);
        await File.WriteAllTextAsync(PathIn("leaf.ext"), $"subjectAltName=DNS:{ServerName},DNS:localhost,IP:{Address}\nbasicConstraints=CA:FALSE\n", cancellationToken).ConfigureAwait(false);
        await Run("x509", "-req", "-in", PathIn("leaf.csr"), "-CA", PathIn("ca.crt"), "-CAkey", PathIn("ca.key"), "-set_serial", "0x" + LeafSerialHex,
            "-days", "20", "-sha256", "-extfile", PathIn("leaf.ext"), "-out", PathIn("leaf.crt")).ConfigureAwait(false);
        await File.WriteAllTextAsync(PathIn("chain.pem"), await File.ReadAllTextAsync(PathIn("leaf.crt"), cancellationToken).ConfigureAwait(false)
            + await File.ReadAllTextAsync(PathIn("ca.crt"), cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

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
                types { text/html html; text/plain txt; image/x-icon ico; image/png png; }
                default_type application/octet-stream;
                access_log {{PathIn("logs/access.log")}};
                client_body_temp_path {{t}}/client_body;
                proxy_temp_path {{t}}/proxy;
                fastcgi_temp_path {{t}}/fastcgi;
                uwsgi_temp_path {{t}}/uwsgi;
                scgi_temp_path {{t}}/scgi;
                server {
                    listen {{Address}}:{{Port}} ssl;
                    server_name _;
                    ssl_certificate {{PathIn("chain.pem")}};
                    ssl_certificate_key {{PathIn("leaf.key")}};
                    ssl_protocols {{string.Join(' ', Protocols)}};
                    root {{PathIn("html")}};
                    index index.html;
                }
            }

            """);
        await File.WriteAllTextAsync(PathIn("nginx.conf"), config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand()
        => new(Identity.Executable, ["-p", TempDirectory + "/", "-e", "stderr", "-c", PathIn("nginx.conf"), "-g", "daemon off;"]);
}
