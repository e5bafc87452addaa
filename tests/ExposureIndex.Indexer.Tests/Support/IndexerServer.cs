using System.Net;
using ExposureIndex.Rpc.Server;
using ExposureIndex.Storage;
using ExposureIndex.Storage.Embedded;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Indexer.Tests.Support;

/// <summary>A real Indexer on Kestrel (HTTP/2-only gRPC port on 127.0.0.1:0) over an embedded store in a temp dir.</summary>
internal sealed class IndexerServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private readonly bool _ownsDirectory;

    private IndexerServer(WebApplication app, IExposureStore store, Uri address, string directory, bool ownsDirectory)
    {
        _app = app;
        _ownsDirectory = ownsDirectory;
        Store = store;
        Address = address;
        Directory = directory;
    }

    public IExposureStore Store { get; }

    public Uri Address { get; }

    public string Directory { get; }

    public static async Task<IndexerServer> StartAsync(string? directory = null)
    {
        var owns = directory is null;
        directory ??= Path.Combine(Path.GetTempPath(), "exposure-indexer-" + Guid.NewGuid().ToString("N"));
        var store = EmbeddedStore.Open(directory);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenRpc(new IPEndPoint(IPAddress.Loopback, 0)));
        builder.Services.AddSingleton<IExposureStore>(store);
        builder.Services.AddIndexer();
        var app = builder.Build();
        app.MapIndexer();
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return new IndexerServer(app, store, address, directory, owns);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Store.DisposeAsync();
        if (_ownsDirectory && System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
