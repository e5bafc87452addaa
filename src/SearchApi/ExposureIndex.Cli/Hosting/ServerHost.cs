using System.Net;
using ExposureIndex.Indexer;
using ExposureIndex.SearchApi;
using ExposureIndex.SearchApi.Endpoints;
using ExposureIndex.Storage;
using ExposureIndex.Storage.Embedded;
using ExposureIndex.Rpc.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Cli.Hosting;

/// <summary>
/// Runs the Indexer and the SearchApi in one process over one store: the gRPC Ingest service on an
/// HTTP/2-only port, the REST API (and later the web UI) on an HTTP/1.1+2 port.
/// </summary>
internal sealed class ServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IExposureStore _store;

    private ServerHost(WebApplication app, IExposureStore store, Uri apiUrl, Uri grpcUrl)
    {
        _app = app;
        _store = store;
        ApiUrl = apiUrl;
        GrpcUrl = grpcUrl;
    }

    public Uri ApiUrl { get; }

    public Uri GrpcUrl { get; }

    public IExposureStore Store => _store;

    public static async Task<ServerHost> StartAsync(ServeOptions options, CancellationToken cancellationToken)
    {
        var store = OpenStore(options.Store);
        try
        {
            var grpcPort = new PortHolder();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
            builder.Logging.SetMinimumLevel(options.Quiet ? LogLevel.Warning : LogLevel.Information);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                kestrel.Listen(options.Http, listen => listen.Protocols = HttpProtocols.Http1);
                kestrel.ListenRpc(options.Grpc);
            });

            builder.Services.AddSingleton(store);
            builder.Services.AddIndexer();
            builder.Services.AddSearchApi(new SearchApiOptions { ApiKeys = options.ApiKeys });

            var app = builder.Build();

            // Requests on the gRPC port go to the Ingest service only; everything else is the REST API.
            app.MapWhen(ctx => ctx.Connection.LocalPort == grpcPort.Port, grpc =>
            {
                grpc.UseRouting();
                grpc.UseEndpoints(endpoints => endpoints.MapIndexer());
            });
            app.MapSearchApi();

            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
                .Select(a => new Uri(a.Replace("[::]", "[::1]", StringComparison.Ordinal)))
                .ToList();

            // Kestrel reports both listeners; the gRPC one is the endpoint we asked for (or the new port when 0 was given).
            var grpcUri = Pick(addresses, options.Grpc, exclude: null);
            var httpUri = Pick(addresses, options.Http, exclude: grpcUri);
            grpcPort.Port = grpcUri.Port;
            return new ServerHost(app, store, httpUri, grpcUri);
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(_app, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            await _store.DisposeAsync().ConfigureAwait(false);
        }
    }

    public static IExposureStore OpenStore(StoreLocation location) => location.Backend switch
    {
        StoreBackend.Embedded => EmbeddedStore.Open(location.Path),
        _ => throw new CliException($"store {location}: the Elasticsearch backend is not available in this build; use --data DIR for the embedded store"),
    };

    private static Uri Pick(List<Uri> addresses, IPEndPoint wanted, Uri? exclude)
    {
        foreach (var uri in addresses)
        {
            if (exclude is not null && uri.Port == exclude.Port)
            {
                continue;
            }

            if (wanted.Port == 0 || uri.Port == wanted.Port)
            {
                return uri;
            }
        }

        throw new InvalidOperationException($"Kestrel did not report a listener for {wanted}");
    }

    private sealed class PortHolder
    {
        public int Port { get; set; } = -1;
    }
}
