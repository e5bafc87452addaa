using System.Net;
using ExposureIndex.Indexer;
using ExposureIndex.Indexer.Enrichment;
using ExposureIndex.Indexer.Enrichment.ReverseDns;
using ExposureIndex.SearchApi;
using ExposureIndex.SearchApi.Endpoints;
using ExposureIndex.Storage;
using ExposureIndex.Storage.Elastic;
using ExposureIndex.Storage.Embedded;
using ExposureIndex.Rpc.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
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
            ListenOptions? httpListener = null;
            ListenOptions? grpcListener = null;
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
                kestrel.Listen(options.Http, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    httpListener = listen;
                });
                kestrel.ListenRpc(options.Grpc, listen => grpcListener = listen);
            });

            builder.Services.AddSingleton(store);
            var geoPaths = new[] { options.GeoIpDatabase, options.AsnDatabase }.OfType<string>().ToList();
            if (geoPaths.Count > 0)
            {
                builder.Services.AddSingleton<IRecordEnricher>(sp => OpenGeoIp(geoPaths, sp.GetRequiredService<ILogger<GeoIpEnricher>>()));
            }

            if (options.ReverseDns)
            {
                var rdns = new ReverseDnsOptions { Resolver = options.Resolver };
                builder.Services.AddSingleton(_ => new ReverseDnsResolver(rdns));
                builder.Services.AddSingleton<IRecordEnricher>(sp => new ReverseDnsEnricher(sp.GetRequiredService<ReverseDnsResolver>(), rdns));
            }

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
            app.MapSearchUi();

            await app.StartAsync(cancellationToken).ConfigureAwait(false);

            // Kestrel writes the bound endpoint (the real port when 0 was asked for) back into each ListenOptions.
            var grpcUri = UriOf(grpcListener!.IPEndPoint!);
            var httpUri = UriOf(httpListener!.IPEndPoint!);
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

    public static IExposureStore OpenStore(StoreLocation location)
    {
        if (location.Backend == StoreBackend.Embedded)
        {
            return EmbeddedStore.Open(location.Path);
        }

        try
        {
            return ElasticStore.Open(location.Url!, ElasticStoreOptions.Default);
        }
        catch (ElasticException ex)
        {
            // The message names the URL without credentials; never echo location.ToString(), which may hold them.
            throw new CliException(ex.Message);
        }
    }

    private static GeoIpEnricher OpenGeoIp(IReadOnlyList<string> paths, ILogger<GeoIpEnricher> logger)
    {
        try
        {
            return GeoIpEnricher.Open(paths, logger);
        }
        catch (ExposureIndex.GeoIp.MmdbFormatException ex)
        {
            throw new CliException($"cannot use the GeoIP database: {ex.Message}");
        }
    }

    private static Uri UriOf(IPEndPoint endpoint)
    {
        var address = endpoint.Address;
        if (address.Equals(IPAddress.Any))
        {
            address = IPAddress.Loopback;
        }
        else if (address.Equals(IPAddress.IPv6Any))
        {
            address = IPAddress.IPv6Loopback;
        }

        return new Uri($"http://{new IPEndPoint(address, endpoint.Port)}/");
    }

    private sealed class PortHolder
    {
        public int Port { get; set; } = -1;
    }
}
