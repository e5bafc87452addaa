using System.Net;
using ExposureIndex.Cli.Hosting;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Storage;
using ExposureIndex.TestCommon;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Playwright;

namespace ExposureIndex.IntegrationTests.Ui;

/// <summary>
/// A real `exposure serve` host (ServerHost: gRPC + REST + UI on 127.0.0.1:0, temp data dir) seeded with known
/// records, and Debian's chromium driven headless by Playwright with a fresh profile. Playwright never downloads
/// a browser here: the executable is /usr/bin/chromium, and the browser starts only when a test asks for it
/// (after Requires.Executable has had the chance to skip).
/// </summary>
public sealed class UiBrowserFixture : IAsyncLifetime
{
    public const string Key = "ui-browser-key-0123456789";
    public static readonly DateTime T0 = new(2026, 4, 1, 10, 0, 0, DateTimeKind.Utc);

    /// <summary>Seeded, in the order the hostile banner's parts are checked.</summary>
    public const string HostileScript = "<script>window.__pwned=1</script>";
    public const string HostileImage = "<img src=x onerror=\"window.__pwned=2\">";
    public const string HostileSvg = "<svg onload=window.__pwned=3>";
    public const string HostileTitle = "<script>window.__pwned=4</script>Admin";
    public const string HostileProduct = "<b>Evil</b>";
    public const int BulkCount = 130;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "exposure-ui-browser-" + Guid.NewGuid().ToString("N"));
    private readonly SemaphoreSlim _launch = new(1, 1);
    private IPlaywright? _playwright;
    private IBrowserContext? _context;

    internal ServerHost Server { get; private set; } = null!;

    public int ServiceCount { get; private set; }

    public string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "ui-screenshots");

    public string DownloadDirectory => Path.Combine(_root, "downloads");

    public async ValueTask InitializeAsync()
    {
        var data = Path.Combine(_root, "data");
        Server = await ServerHost.StartAsync(new ServeOptions
        {
            DataDirectory = data,
            Store = new StoreLocation(StoreBackend.Embedded, data, null),
            Http = new IPEndPoint(IPAddress.Loopback, 0),
            Grpc = new IPEndPoint(IPAddress.Loopback, 0),
            ApiKeys = [Key],
            Quiet = true,
        }, TestContext.Current.CancellationToken);
        var records = Seed();
        var result = await Server.Store.IngestAsync(records, TestContext.Current.CancellationToken);
        ServiceCount = records.Select(r => (r.Ip, r.Port, r.Transport)).Distinct().Count();
        Assert.True(ServiceCount > BulkCount, $"seeded {ServiceCount} services ({result})");
    }

    /// <summary>The browser context (one fresh profile for the fixture), launched on first use.</summary>
    public async Task<IBrowserContext> ContextAsync(string chromium)
    {
        await _launch.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (_context is not null)
            {
                return _context;
            }

            // Belt and braces: nothing in this process may fetch a browser build.
            Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
            _playwright = await Playwright.CreateAsync();
            var profile = Path.Combine(_root, "profile");
            Directory.CreateDirectory(profile);
            Directory.CreateDirectory(DownloadDirectory);
            _context = await _playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = chromium,
                Headless = true,
                Args =
                [
                    "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-gpu",
                    // Loopback only, never through a proxy (ground rule: no proxy may be asked to reach anything).
                    "--no-proxy-server",
                ],
                BaseURL = Server.ApiUrl.ToString(),
                ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
                ColorScheme = ColorScheme.Light,
                AcceptDownloads = true,
                DownloadsPath = DownloadDirectory,
                Timeout = 60_000,
                Locale = "en-US",
                TimezoneId = "UTC",
            });
            _context.SetDefaultTimeout(15_000);
            _context.SetDefaultNavigationTimeout(15_000);
            return _context;
        }
        finally
        {
            _launch.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_context is not null)
        {
            await _context.CloseAsync();
        }

        _playwright?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        _launch.Dispose();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static List<ServiceRecord> Seed()
    {
        static ServiceRecord R(string ip, uint port, string data, string product, string version, DateTime at, string country = "US", string city = "Austin", string org = "Example Hosting", string asn = "AS64500")
            => new()
            {
                Ip = ip,
                Port = port,
                Transport = Transport.Tcp,
                Timestamp = Timestamp.FromDateTime(at),
                Data = ByteString.CopyFromUtf8(data),
                Product = product,
                Version = version,
                Source = RecordSource.ActiveScan,
                Outcome = GrabOutcome.Success,
                Module = port switch { 22 => "ssh", 443 => "https", _ => "http" },
                Scanner = "exposure-crawler/0",
                Location = new ExposureIndex.Contracts.V1.Location { CountryCode = country, City = city, CountryName = country == "US" ? "United States" : "Germany" },
                Asn = asn,
                Org = org,
            };

        var kex = new SshKex();
        kex.KexAlgorithms.Add(["curve25519-sha256", "sntrup761x25519-sha512@openssh.com"]);
        kex.ServerHostKeyAlgorithms.Add(["ssh-ed25519", "rsa-sha2-512"]);
        kex.EncryptionAlgorithms.Add(["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com"]);
        kex.MacAlgorithms.Add("hmac-sha2-256-etm@openssh.com");
        kex.CompressionAlgorithms.Add(["none", "zlib@openssh.com"]);
        SshSection Ssh(string banner) => new()
        {
            Banner = banner,
            Type = "ssh-ed25519",
            Fingerprint = "dc:14:de:8e:d7:c1:15:43:23:82:25:81:d2:59:e8:c0",
            FingerprintSha256 = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
            Hassh = "0123456789abcdef0123456789abcdef",
            Kex = kex,
        };

        var sshOld = R("198.51.100.10", 22, "SSH-2.0-OpenSSH_9.0p1\r\n", "OpenSSH", "9.0p1", T0.AddDays(-10));
        sshOld.Ssh = Ssh("SSH-2.0-OpenSSH_9.0p1");
        var ssh = R("198.51.100.10", 22, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", "OpenSSH", "9.2p1", T0);
        ssh.Ssh = Ssh("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
        ssh.Hostnames.Add("gw.example.net");

        var https = R("198.51.100.10", 443, "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n\r\n", "nginx", "1.22.1", T0.AddHours(-2));
        https.Hostnames.Add("www.example.net");
        https.Http = new HttpSection { Status = 200, Title = "Example Portal", Server = "nginx/1.22.1", Host = "www.example.net", Location = "/" };
        https.Http.Headers.Add("Content-Type", "text/html");
        https.Http.Headers.Add("Server", "nginx/1.22.1");
        var cert = new Certificate
        {
            Subject = new CertificateName { CommonName = "www.example.net", Organization = "Example Hosting" },
            Issuer = new CertificateName { CommonName = "Example Issuing CA" },
            Serial = "03e8",
            NotBefore = Timestamp.FromDateTime(T0.AddDays(-30)),
            NotAfter = Timestamp.FromDateTime(T0.AddDays(60)),
            Sha1 = "0123456789abcdef0123456789abcdef01234567",
            Sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            PublicKeyType = "ec",
            PublicKeyBits = 256,
            SignatureAlgorithm = "ecdsa-with-SHA256",
            Version = 3,
        };
        cert.SubjectAltNames.Add(["www.example.net", "example.net"]);
        https.Ssl = new TlsSection { Version = "TLSv1.3", Cipher = "TLS_AES_128_GCM_SHA256", CipherBits = 128 };
        https.Ssl.Versions.Add(["TLSv1.2", "TLSv1.3"]);
        https.Ssl.Chain.Add(cert);

        var apache = R("198.51.100.20", 80, "HTTP/1.1 200 OK\r\nServer: Apache/2.4.57 (Debian)\r\n\r\n", "Apache httpd", "2.4.57", T0.AddHours(-1), "DE", "Berlin", "Beispiel GmbH", "AS64501");
        apache.Http = new HttpSection { Status = 200, Title = "Index of /", Server = "Apache/2.4.57 (Debian)" };

        // Hostile input in every field the UI shows; a bidi override must not reorder what is displayed.
        var hostile = R("198.51.100.66", 8080, $"HTTP/1.1 200 OK\r\nServer: {HostileScript}\r\nX-Evil: {HostileImage}\r\nX-Trick: abc\u202Edcb\r\n\r\n{HostileSvg}", HostileProduct, "1<i>0</i>", T0.AddMinutes(-5));
        hostile.Http = new HttpSection { Status = 200, Title = HostileTitle, Server = HostileScript };
        hostile.Http.Headers.Add("X-Evil", HostileImage);
        hostile.Tags.Add("<u>tag</u>");
        hostile.Hostnames.Add("evil.example");

        var me = R("127.0.0.1", 8780, "HTTP/1.1 200 OK\r\nServer: ExposureIndex\r\n\r\n", "ExposureIndex", "demo", T0.AddMinutes(-1), org: "Loopback");
        me.Http = new HttpSection { Status = 200, Title = "ExposureIndex" };

        var records = new List<ServiceRecord> { sshOld, ssh, https, apache, hostile, me };
        for (var i = 0; i < BulkCount; i++)
        {
            records.Add(R($"203.0.113.{i}", 8000, $"HTTP/1.0 404 Not Found\r\nServer: bulk-httpd/{i % 3}\r\n\r\n", "bulk-httpd", "2." + (i % 3), T0.AddMinutes(-10 - i), "US", "Dallas", "Bulk Networks", "AS64502"));
        }

        return records;
    }
}
