using System.Globalization;
using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Http;
using ExposureIndex.TestCommon;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Http;

public sealed class HttpGrabberDaemonTests
{
    // Shodan's favicon hash computed the way Shodan's documentation shows it - mmh3.hash(base64.encodebytes(data)) -
    // with Python's own base64 module and a pure-Python MurmurHash3 x86_32 written here (Debian has no python3-mmh3).
    private const string PythonHashes = """
        import base64, sys
        def mmh3(data, seed=0):
            c1, c2, m = 0xcc9e2d51, 0x1b873593, 0xffffffff
            h, n = seed, len(data)
            rotl = lambda x, r: ((x << r) | (x >> (32 - r))) & m
            for i in range(0, n - n % 4, 4):
                k = int.from_bytes(data[i:i + 4], 'little')
                k = rotl((k * c1) & m, 15) * c2 & m
                h = (rotl(h ^ k, 13) * 5 + 0xe6546b64) & m
            tail, k = data[n - n % 4:], 0
            for i in reversed(range(len(tail))):
                k = (k << 8) | tail[i]
            if tail:
                h ^= rotl((k * c1) & m, 15) * c2 & m
            h ^= n
            h ^= h >> 16; h = (h * 0x85ebca6b) & m
            h ^= h >> 13; h = (h * 0xc2b2ae35) & m
            h ^= h >> 16
            return h - (1 << 32) if h & 0x80000000 else h
        for path in sys.argv[1:]:
            data = open(path, 'rb').read()
            print(mmh3(base64.encodebytes(data)), mmh3(data))
        """;

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_Nginx_ProductVersionTitleAndFaviconHashAsShodan()
    {
        await using var nginx = await NginxDaemon.StartAsync(title: "Exposure <Dashboard> & more", cancellationToken: GrabRun.Ct);
        var html = Path.Combine(nginx.TempDirectory, "html");
        var favicon = Path.Combine(html, "favicon.ico");
        await File.WriteAllBytesAsync(favicon, FaviconBytes(), GrabRun.Ct);
        await File.WriteAllTextAsync(Path.Combine(html, "robots.txt"), "User-agent: *\nDisallow: /private/\n", GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new HttpGrabber(), nginx);

        Assert.Equal("http", record.Module);
        GrabRun.AssertExactVersion(record, nginx, "f5", "nginx");
        Assert.Equal(200, record.Http.Status);
        Assert.Equal($"nginx/{nginx.Version}", record.Http.Server);
        Assert.Equal("Exposure <Dashboard> & more", record.Http.Title);
        Assert.Equal(nginx.IndexHtml, Encoding.UTF8.GetString(record.Http.Html.Span));
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", Encoding.ASCII.GetString(record.Data.Span), StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", Encoding.ASCII.GetString(record.Data.Span), StringComparison.Ordinal);
        Assert.Equal($"nginx/{nginx.Version}", record.Http.Headers["Server"]);

        var robots = Path.Combine(nginx.TempDirectory, "robots-copy.txt");
        File.Copy(Path.Combine(html, "robots.txt"), robots);
        var index = Path.Combine(nginx.TempDirectory, "index-copy.html");
        await File.WriteAllTextAsync(index, nginx.IndexHtml, GrabRun.Ct);
        var python = await PythonHashesAsync(favicon, index, robots);
        Assert.Equal(python[0].Shodan, record.Http.Favicon.Hash);
        Assert.Equal($"http://{nginx.Address}{PortSuffix(nginx.Port)}/favicon.ico", record.Http.Favicon.Location);
        Assert.Equal(python[1].Plain, record.Http.HtmlHash);
        Assert.True(record.Http.RobotsPresent);
        Assert.Equal(python[2].Plain, record.Http.RobotsHash);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_NginxWithoutFavicon_NoFaviconNoRobots()
    {
        await using var nginx = await NginxDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var result = await GrabRun.GrabAsync(new HttpGrabber(), nginx);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Null(result.Fragment.Http.Favicon);
        Assert.False(result.Fragment.Http.RobotsPresent);
        Assert.Equal(nginx.Title, result.Fragment.Http.Title);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_Apache_ProductVersionAndDebianOs()
    {
        await using var apache = await ApacheDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new HttpGrabber(), apache);

        Assert.Equal(apache.Product, record.Product);
        Assert.Equal("Apache httpd", record.Product);
        Assert.Equal(apache.Version, record.Version);
        Assert.Equal("Debian", record.Os);
        Assert.Equal($"cpe:2.3:a:apache:http_server:{apache.Version}:*:*:*:*:*:*:*", Assert.Single(record.Cpe23));
        Assert.Equal($"Apache/{apache.Version} (Debian)", record.Http.Server);
        Assert.Equal(apache.Title, record.Http.Title);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_HttpsNginx_TitleAndServerInsideTls()
    {
        await using var nginx = await NginxTlsDaemon.StartAsync(cancellationToken: GrabRun.Ct);
        await File.WriteAllBytesAsync(Path.Combine(nginx.HtmlDirectory, "favicon.ico"), FaviconBytes(), GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new HttpGrabber(), nginx, GrabRun.Context(nginx.EndPoint, tls: true));

        Assert.Equal("https", record.Module);
        Assert.Equal(nginx.Version, record.Version);
        Assert.Equal(nginx.Title, record.Http.Title);
        Assert.StartsWith("https://", record.Http.Favicon.Location, StringComparison.Ordinal);
    }

    /// <summary>A few KiB of fixed bytes: long enough that base64.encodebytes wraps it over many lines.</summary>
    private static byte[] FaviconBytes()
    {
        var random = new Random(20240601);
        var bytes = new byte[3 * 1024 + 17];
        random.NextBytes(bytes);
        // An ICO header (ICONDIR, one 16x16 entry) so the file at least looks like what it claims to be.
        byte[] header = [0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0];
        header.CopyTo(bytes, 0);
        return bytes;
    }

    private static string PortSuffix(int port) => port == 80 ? string.Empty : ":" + port.ToString(CultureInfo.InvariantCulture);

    private static async Task<List<(int Shodan, int Plain)>> PythonHashesAsync(params string[] files)
    {
        Requires.File(RepoPaths.SystemPython, "Debian's python3");
        var output = (await Tool.RunAsync(new DaemonCommand(RepoPaths.SystemPython, ["-c", PythonHashes, .. files]), TimeSpan.FromSeconds(30), cancellationToken: GrabRun.Ct)).EnsureSuccess().StandardOutput;
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .Select(p => (int.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture)))
            .ToList();
    }
}
