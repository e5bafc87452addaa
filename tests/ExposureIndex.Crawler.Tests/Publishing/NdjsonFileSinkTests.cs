using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Engine;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Publishing;
using ExposureIndex.Crawler.Tests.Support;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Crawler.Tests.Publishing;

public sealed partial class NdjsonFileSinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crawler-ndjson-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")]
    private static partial Regex ShodanTimestamp();

    private static ServiceRecord Record(string ip, uint port, byte[] data, string module = "") => new()
    {
        Ip = ip,
        Port = port,
        Transport = Transport.Tcp,
        Timestamp = Timestamp.FromDateTimeOffset(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234560)),
        Data = ByteString.CopyFrom(data),
        Source = RecordSource.ActiveScan,
        Scanner = "exposure-crawler/test",
        ScanId = "scan-1",
        Outcome = GrabOutcome.Success,
        Module = module,
    };

    [Fact]
    public async Task Crawl_ToNdjsonFile_WritesShodanBannersOnePerLine()
    {
        await using var ssh = LoopbackServer.TalkFirst("SSH-2.0-OpenSSH_9.6\r\n");
        await using var http = LoopbackServer.SilentHttp("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        var path = Path.Combine(_dir, "out.ndjson");
        var options = new CrawlOptions
        {
            Targets = [ssh.Address.ToString(), http.Address.ToString()],
            Ports = $"{ssh.Port},{http.Port}",
            HttpPorts = http.Port.ToString(CultureInfo.InvariantCulture),
            AllowLoopback = true,
            Concurrency = 4,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            BannerWait = TimeSpan.FromMilliseconds(300),
            ReadTimeout = TimeSpan.FromMilliseconds(500),
            TargetDeadline = TimeSpan.FromSeconds(3),
            OutputPath = path,
            ScanId = "ndjson-scan",
            // The sink's format is under test, not the deep grabbers: data stays the probe engine's bytes.
            DeepGrab = false,
        };
        Assert.Empty(CrawlOptionsValidator.Validate(options));

        CrawlSummary summary;
        await using (var sink = NdjsonFileSink.Open(path))
        {
            summary = await new CrawlRunner().RunAsync(options, sink, null, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }

        Assert.Equal(2, summary.RecordsWritten);
        Assert.Equal(2, summary.RecordsAcknowledged);
        var lines = await File.ReadAllLinesAsync(path, Ct);
        Assert.Equal(2, lines.Length);
        var banners = lines.Select(line => JsonDocument.Parse(line).RootElement).OrderBy(b => b.GetProperty("_shodan").GetProperty("module").GetString()).ToList();

        var web = banners[0];
        Assert.Equal(http.Address.ToString(), web.GetProperty("ip_str").GetString());
        Assert.Equal(http.Port, web.GetProperty("port").GetInt32());
        Assert.Equal("tcp", web.GetProperty("transport").GetString());
        Assert.Equal("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", web.GetProperty("data").GetString());
        Assert.Equal("http", web.GetProperty("_shodan").GetProperty("module").GetString());

        var shell = banners[1];
        Assert.Equal(ssh.Address.ToString(), shell.GetProperty("ip_str").GetString());
        Assert.Equal("SSH-2.0-OpenSSH_9.6\r\n", shell.GetProperty("data").GetString());
        Assert.Equal("ssh", shell.GetProperty("_shodan").GetProperty("module").GetString());

        foreach (var banner in banners)
        {
            var ip = banner.GetProperty("ip_str").GetString()!;
            var octets = ip.Split('.').Select(o => uint.Parse(o, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3], banner.GetProperty("ip").GetUInt32());
            Assert.Matches(ShodanTimestamp(), banner.GetProperty("timestamp").GetString()!);
            Assert.Equal(JsonValueKind.Number, banner.GetProperty("hash").ValueKind);
            Assert.Equal(JsonValueKind.Object, banner.GetProperty("location").ValueKind);
            Assert.Matches("^[0-9a-f]{32}$", banner.GetProperty("_shodan").GetProperty("id").GetString()!);
            Assert.StartsWith("exposure-crawler/", banner.GetProperty("_shodan").GetProperty("crawler").GetString(), StringComparison.Ordinal);
            Assert.Equal("active", banner.GetProperty("_exposure").GetProperty("source").GetString());
            Assert.Equal("success", banner.GetProperty("_exposure").GetProperty("outcome").GetString());
            Assert.Equal("ndjson-scan", banner.GetProperty("_exposure").GetProperty("scan_id").GetString());
        }
    }

    [Fact]
    public async Task WriteAsync_BinaryAndSpecialCharacters_RoundTripThroughJson()
    {
        var path = Path.Combine(_dir, "special.ndjson");
        byte[] binary = [0x00, 0xFF, 0x80, (byte)'"', (byte)'\n', (byte)'<'];
        await using (var sink = NdjsonFileSink.Open(path))
        {
            await sink.WriteAsync([Record("8.8.8.8", 21, binary), Record("2606:4700::1111", 80, "héllo <b>\"x\"</b>"u8.ToArray(), "http")], Ct);
            var result = await sink.CompleteAsync(Ct);
            Assert.Equal(new SinkCounts(2, 2, 0), result.Counts);
        }

        var lines = await File.ReadAllLinesAsync(path, Ct);
        Assert.Equal(2, lines.Length);
        var first = JsonDocument.Parse(lines[0]).RootElement;
        // Not UTF-8, so every byte maps through Latin-1 and survives.
        Assert.Equal(binary, first.GetProperty("data").GetString()!.Select(c => (byte)c));
        Assert.Equal("2025-01-02T03:04:05.123456", first.GetProperty("timestamp").GetString());
        var second = JsonDocument.Parse(lines[1]).RootElement;
        Assert.Equal("héllo <b>\"x\"</b>", second.GetProperty("data").GetString());
        Assert.Equal("2606:4700::1111", second.GetProperty("ipv6").GetString());
        Assert.Equal("2606:4700::1111", second.GetProperty("ip_str").GetString());
        Assert.False(second.TryGetProperty("ip", out _));
    }

    [Fact]
    public async Task FlushAsync_AfterWrites_MarksThemDurable()
    {
        var path = Path.Combine(_dir, "flush.ndjson");
        await using var sink = NdjsonFileSink.Open(path);
        await sink.WriteAsync([Record("8.8.8.8", 22, "SSH-2.0-x\r\n"u8.ToArray())], Ct);
        Assert.Equal(new SinkCounts(1, 0, 0), sink.Counts);
        Assert.Equal(new SinkCounts(1, 1, 0), await sink.FlushAsync(Ct));
        Assert.Single(await ReadSharedAsync(path));
    }

    [Fact]
    public async Task CompleteAsync_Twice_IsIdempotentAndForbidsLaterWrites()
    {
        var path = Path.Combine(_dir, "twice.ndjson");
        await using var sink = NdjsonFileSink.Open(path);
        await sink.WriteAsync([Record("8.8.8.8", 22, [1])], Ct);
        var first = await sink.CompleteAsync(Ct);
        var second = await sink.CompleteAsync(Ct);
        Assert.Equal(first.Counts, second.Counts);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await sink.WriteAsync([Record("8.8.8.8", 23, [1])], Ct));
    }

    [Fact]
    public async Task Open_Append_KeepsEarlierLines()
    {
        var path = Path.Combine(_dir, "append.ndjson");
        foreach (var port in new uint[] { 22, 80 })
        {
            await using var sink = NdjsonFileSink.Open(path, append: true);
            await sink.WriteAsync([Record("8.8.8.8", port, [1])], Ct);
            await sink.CompleteAsync(Ct);
        }

        Assert.Equal([22, 80], (await File.ReadAllLinesAsync(path, Ct)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("port").GetInt32()));
    }

    [Fact]
    public void Open_MissingDirectory_Throws()
    {
        Assert.Throws<DirectoryNotFoundException>(() => NdjsonFileSink.Open(Path.Combine(_dir, "no", "such", "dir.ndjson")));
    }

    [Fact]
    public async Task Open_Dash_IsStandardOutput()
    {
        await using var sink = NdjsonFileSink.Open("-");
        Assert.Equal("ndjson:stdout", sink.Name);
        var result = await sink.CompleteAsync(Ct);
        Assert.Equal(new SinkCounts(0, 0, 0), result.Counts);
    }

    private static async Task<string[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return (await reader.ReadToEndAsync(Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
