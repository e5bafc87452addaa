using ExposureIndex.TestCommon;

namespace ExposureIndex.IntegrationTests.Cli;

/// <summary>
/// The `exposure` command as users meet it: every subcommand has --help; an error is one clear line on stderr and
/// a non-zero exit code, and nothing is sent when targets are refused.
/// </summary>
public sealed class ExposureCommandTests
{
    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
        => PythonScripts.RunProcessAsync("dotnet", ["exec", Path.Combine(AppContext.BaseDirectory, "exposure.dll"), .. args], null, TimeSpan.FromSeconds(60));

    [Theory]
    [InlineData("demo")]
    [InlineData("serve")]
    [InlineData("crawl")]
    [InlineData("search")]
    [InlineData("count")]
    [InlineData("host")]
    public async Task Help_EverySubcommand_DescribesItselfAndExitsZero(string command)
    {
        var (exit, stdout, _) = await RunAsync(command, "--help");
        Assert.Equal(0, exit);
        Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
        Assert.Contains("exposure " + command, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_Root_ListsTheCommands()
    {
        var (exit, stdout, _) = await RunAsync("--help");
        Assert.Equal(0, exit);
        foreach (var command in new[] { "demo", "serve", "crawl", "search", "count", "host" })
        {
            Assert.Contains(command, stdout, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(new[] { "crawl", "--ports", "80" }, "--targets")]
    [InlineData(new[] { "crawl", "--targets", "192.0.2.0/24", "--ports", "99999", "--output", "-" }, "99999")]
    [InlineData(new[] { "crawl", "--targets", "192.0.2.0/24", "--ports", "80", "--output", "-", "--connect-timeout", "3 parsecs" }, "--connect-timeout '3 parsecs' is not a duration")]
    [InlineData(new[] { "crawl", "--targets", "192.0.2.0/24", "--ports", "80", "--output", "-", "--deadline", "8d" }, "--deadline '8d' is not a duration of at most 7 days")]
    [InlineData(new[] { "nosuchcommand" }, "nosuchcommand")]
    [InlineData(new[] { "serve", "--http", "not-an-endpoint" }, "--http")]
    [InlineData(new[] { "host", "not-an-ip", "--api-key", "whatever-key" }, "is not an IP address")]
    [InlineData(new[] { "search", "prot:22", "--api-url", "http://127.0.0.1:9", "--api-key", "whatever-key" }, "")]
    public async Task BadInput_IsOneLineOnStderrAndNonZero(string[] args, string mention)
    {
        var (exit, _, stderr) = await RunAsync(args);
        Assert.NotEqual(0, exit);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("exposure: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(mention, lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Crawl_LoopbackWithoutFlag_IsRefusedAndSendsNothing()
    {
        // A listener on a private loopback address: the refused crawl must never connect to it.
        var address = Loopback.NextAddress();
        using var listener = new System.Net.Sockets.TcpListener(address, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;

        var (exit, _, stderr) = await RunAsync("crawl", "--targets", address.ToString(), "--ports", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--output", "-");
        Assert.Equal(2, exit);
        Assert.Contains("loopback", stderr, StringComparison.Ordinal);
        Assert.Contains("--allow-loopback", stderr, StringComparison.Ordinal);
        Assert.False(listener.Pending(), "the refused crawl connected anyway");
    }

    [Fact]
    public async Task Crawl_ToNdjson_WritesShodanBanners()
    {
        var address = Loopback.NextAddress();
        using var listener = new System.Net.Sockets.TcpListener(address, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var serve = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
            await client.GetStream().WriteAsync("220 test.example ESMTP ready\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }, TestContext.Current.CancellationToken);

        var output = Path.Combine(Path.GetTempPath(), $"exposure-crawl-{Guid.NewGuid():N}.ndjson");
        try
        {
            var (exit, stdout, stderr) = await RunAsync("crawl", "--targets", address.ToString(), "--ports", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--output", output, "--allow-loopback", "--quiet");
            Assert.True(exit == 0, stderr);
            Assert.Contains("1 open", stdout, StringComparison.Ordinal);
            var line = Assert.Single(File.ReadAllLines(output));
            using var banner = System.Text.Json.JsonDocument.Parse(line);
            Assert.Equal(address.ToString(), banner.RootElement.GetProperty("ip_str").GetString());
            Assert.Equal(port, banner.RootElement.GetProperty("port").GetInt32());
            Assert.StartsWith("220 test.example ESMTP", banner.RootElement.GetProperty("data").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(output);
            await serve.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
    }
}
