using System.Net;
using System.Net.Sockets;
using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.SearchApi.Endpoints;
using ExposureIndex.Storage;
using ExposureIndex.Storage.Embedded;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.SearchApi.Tests.Ui;

/// <summary>The REST API and the web UI on Kestrel (127.0.0.1:0), as ServerHost maps them, over a one-record store.</summary>
internal sealed class UiServer : IAsyncDisposable
{
    public const string Key = "ui-test-key-0123456789";
    private readonly WebApplication _app;
    private readonly IExposureStore _store;
    private readonly string _directory;

    private UiServer(WebApplication app, IExposureStore store, Uri baseUrl, string directory)
    {
        _app = app;
        _store = store;
        BaseUrl = baseUrl;
        _directory = directory;
    }

    public Uri BaseUrl { get; }

    public static async Task<UiServer> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "exposure-ui-" + Guid.NewGuid().ToString("N"));
        var store = EmbeddedStore.Open(directory);
        await store.IngestAsync([new ServiceRecord
        {
            Ip = "198.51.100.7",
            Port = 80,
            Transport = Transport.Tcp,
            Timestamp = Timestamp.FromDateTime(new DateTime(2026, 4, 1, 10, 0, 0, DateTimeKind.Utc)),
            Data = ByteString.CopyFromUtf8("HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n"),
            Product = "nginx",
            Source = RecordSource.ActiveScan,
        }]);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, 0);
        });
        builder.Services.AddSingleton<IExposureStore>(store);
        builder.Services.AddSearchApi(new SearchApiOptions { ApiKeys = [Key] });
        var app = builder.Build();
        app.MapSearchApi();
        app.MapSearchUi();
        await app.StartAsync();
        var url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return new UiServer(app, store, url, directory);
    }

    public HttpClient Client() => new() { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// Sends a request target byte for byte (HttpClient and Uri would normalize "..", which is what a traversal
    /// test must not do) and returns the status code and body. Bounded by a 10 s deadline.
    /// </summary>
    public async Task<(int Status, string Response)> RawGetAsync(string target, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(10));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, BaseUrl.Port, deadline.Token);
        await using var stream = tcp.GetStream();
        var request = $"GET {target} HTTP/1.1\r\nHost: {BaseUrl.Authority}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), deadline.Token);
        using var memory = new MemoryStream();
        await stream.CopyToAsync(memory, deadline.Token);
        var text = Encoding.UTF8.GetString(memory.ToArray());
        var statusLine = text.Split("\r\n", 2)[0];
        var parts = statusLine.Split(' ');
        return (parts.Length > 1 && int.TryParse(parts[1], out var status) ? status : -1, text);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _store.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
