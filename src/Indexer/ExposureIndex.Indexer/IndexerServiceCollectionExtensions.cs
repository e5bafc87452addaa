using ExposureIndex.Indexer.Enrichment;
using ExposureIndex.Indexer.Ingest;
using ExposureIndex.Indexer.Pipeline;
using ExposureIndex.Rpc.Server;
using ExposureIndex.Rpc.Services;
using ExposureIndex.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Indexer;

/// <summary>Wires the Indexer into a host: the ingest pipeline and the gRPC Ingest service.</summary>
public static class IndexerServiceCollectionExtensions
{
    /// <summary>Registers the pipeline. The host registers <see cref="IExposureStore"/> and any <see cref="IRecordEnricher"/>s.</summary>
    public static IServiceCollection AddIndexer(this IServiceCollection services, RecordLimits? limits = null)
    {
        services.AddRpcServer(new RpcServerOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
        services.AddSingleton(sp => new RecordValidator(limits ?? new RecordLimits(), sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.AddSingleton(sp => new IngestPipeline(
            sp.GetRequiredService<IExposureStore>(),
            sp.GetRequiredService<RecordValidator>(),
            sp.GetServices<IRecordEnricher>().ToList(),
            sp.GetRequiredService<ILogger<IngestPipeline>>()));
        services.AddSingleton<IngestService>();
        return services;
    }

    /// <summary>Maps exposure.v1.Ingest/Publish (and UNIMPLEMENTED for anything else under gRPC).</summary>
    public static IEndpointRouteBuilder MapIndexer(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var ingest = endpoints.ServiceProvider.GetRequiredService<IngestService>();
        endpoints.MapRpcDuplex(IngestRpc.Publish, ingest.PublishAsync);
        endpoints.MapRpcUnimplemented();
        return endpoints;
    }
}
