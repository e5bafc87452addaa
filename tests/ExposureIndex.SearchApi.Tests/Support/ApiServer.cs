using System.Net;
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

namespace ExposureIndex.SearchApi.Tests.Support;

/// <summary>The SearchApi on Kestrel (127.0.0.1:0) over an embedded store holding a small, known data set.</summary>
internal sealed class ApiServer : IAsyncDisposable
{
    public const string Key = "test-key-0123456789";
    public static readonly DateTime T0 = new(2026, 4, 1, 10, 0, 0, DateTimeKind.Utc);
    private readonly WebApplication _app;
    private readonly string _directory;

    private ApiServer(WebApplication app, IExposureStore store, Uri baseUrl, string directory)
    {
        _app = app;
        Store = store;
        BaseUrl = baseUrl;
        _directory = directory;
    }

    public IExposureStore Store { get; }

    public Uri BaseUrl { get; }

    public static async Task<ApiServer> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "exposure-api-" + Guid.NewGuid().ToString("N"));
        var store = EmbeddedStore.Open(directory);
        await store.IngestAsync(Seed());
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton<IExposureStore>(store);
        builder.Services.AddSearchApi(new SearchApiOptions { ApiKeys = [Key], PageSize = 100, MaxResultWindow = 1000 });
        var app = builder.Build();
        app.MapSearchApi();
        await app.StartAsync();
        var url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return new ApiServer(app, store, url, directory);
    }

    public HttpClient Client() => new() { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Store.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static List<ServiceRecord> Seed()
    {
        ServiceRecord R(string ip, uint port, string data, string product, string version, string country, string city, DateTime at)
        {
            var r = new ServiceRecord
            {
                Ip = ip,
                Port = port,
                Transport = Transport.Tcp,
                Timestamp = Timestamp.FromDateTime(at),
                Data = ByteString.CopyFromUtf8(data),
                Product = product,
                Version = version,
                Source = RecordSource.ActiveScan,
                Module = port == 22 ? "ssh" : "http",
                Location = new Location { CountryCode = country, City = city, CountryName = country == "US" ? "United States" : "Germany" },
                Asn = "AS64500",
                Org = "Example Hosting",
            };
            if (port == 80)
            {
                r.Http = new HttpSection { Status = 200, Title = "Welcome", Server = product };
            }

            return r;
        }

        var records = new List<ServiceRecord>
        {
            R("198.51.100.10", 80, "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n\r\n", "nginx", "1.22.1", "US", "Austin", T0),
            R("198.51.100.10", 22, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "OpenSSH", "9.2p1", "US", "Austin", T0),
            R("198.51.100.11", 80, "HTTP/1.1 200 OK\r\nServer: Apache/2.4.57 (Debian)\r\n\r\n", "Apache httpd", "2.4.57", "DE", "Berlin", T0),
            R("198.51.100.10", 22, "SSH-2.0-OpenSSH_9.0p1\r\n", "OpenSSH", "9.0p1", "US", "Austin", T0.AddDays(-10)),
        };
        records[0].Hostnames.Add("www.example.com");
        for (var i = 0; i < 250; i++)
        {
            records.Add(R($"203.0.113.{i % 250}", (uint)(8000 + (i / 250)), $"HTTP/1.0 404 Not Found\r\nServer: bulk/{i}\r\n\r\n", "bulk", "1." + (i % 3), "US", "Dallas", T0.AddMinutes(i)));
        }

        return records;
    }
}
