using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ExposureIndex.Rpc.Server;

/// <summary>Registers the server transport's services.</summary>
public static class RpcServiceCollectionExtensions
{
    /// <summary>Registers routing and the server options (validated now, reporting every error).</summary>
    public static IServiceCollection AddRpcServer(this IServiceCollection services, RpcServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRouting();
        services.RemoveAll<RpcServerOptions>();
        services.AddSingleton((options ?? RpcServerOptions.Default).EnsureValid());
        return services;
    }
}
