using System.Runtime.CompilerServices;
using ExposureIndex.Rpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExposureIndex.Rpc.Server;

/// <summary>
/// Maps gRPC methods onto ASP.NET Core endpoints (<c>POST /{service}/{method}</c>). The first mapping on a
/// route builder also maps a lowest-priority catch-all that answers unknown methods with
/// UNIMPLEMENTED as Trailers-Only (PROTOCOL-HTTP2), so the server never answers a gRPC client with a bare 404.
/// Options come from <see cref="RpcServiceCollectionExtensions.AddRpcServer"/> (defaults otherwise).
/// </summary>
public static class RpcEndpointRouteBuilderExtensions
{
    private const string LoggerCategory = "ExposureIndex.Rpc.Server";
    private static readonly ConditionalWeakTable<IEndpointRouteBuilder, RouteState> States = new();

    /// <summary>Maps a unary method.</summary>
    public static IEndpointConventionBuilder MapRpcUnary<TRequest, TResponse>(this IEndpointRouteBuilder endpoints, Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler) =>
        Map(endpoints, method, MethodType.Unary, handler);

    /// <summary>Maps a client-streaming method.</summary>
    public static IEndpointConventionBuilder MapRpcClientStreaming<TRequest, TResponse>(this IEndpointRouteBuilder endpoints, Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse> handler) =>
        Map(endpoints, method, MethodType.ClientStreaming, handler);

    /// <summary>Maps a server-streaming method.</summary>
    public static IEndpointConventionBuilder MapRpcServerStreaming<TRequest, TResponse>(this IEndpointRouteBuilder endpoints, Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler) =>
        Map(endpoints, method, MethodType.ServerStreaming, handler);

    /// <summary>Maps a bidirectional streaming method.</summary>
    public static IEndpointConventionBuilder MapRpcDuplex<TRequest, TResponse>(this IEndpointRouteBuilder endpoints, Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse> handler) =>
        Map(endpoints, method, MethodType.DuplexStreaming, handler);

    /// <summary>
    /// Maps the catch-all that answers unknown gRPC methods with UNIMPLEMENTED (Trailers-Only). Called by
    /// the first MapRpc* on a builder; calling it again does nothing.
    /// </summary>
    public static void MapRpcUnimplemented(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var state = States.GetValue(endpoints, _ => new RouteState());
        lock (state)
        {
            if (state.FallbackMapped)
            {
                return;
            }

            state.FallbackMapped = true;
        }

        var logger = CreateLogger(endpoints);
        endpoints.MapPost("{**path}", http => HandleUnknownAsync(http, state, logger))
            .WithDisplayName("gRPC unimplemented method")
            .Add(builder => ((RouteEndpointBuilder)builder).Order = int.MaxValue);
    }

    private static IEndpointConventionBuilder Map<TRequest, TResponse>(IEndpointRouteBuilder endpoints, Method<TRequest, TResponse> method, MethodType expected, Delegate handler)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(handler);
        if (method.Type != expected)
        {
            throw new ArgumentException($"Method {method.FullName} is {method.Type}, but was mapped as {expected}.", nameof(method));
        }

        var options = (endpoints.ServiceProvider.GetService<RpcServerOptions>() ?? RpcServerOptions.Default).EnsureValid();
        var logger = CreateLogger(endpoints);
        var state = States.GetValue(endpoints, _ => new RouteState());
        lock (state)
        {
            state.Services.Add(method.ServiceName);
        }

        endpoints.MapRpcUnimplemented();
        var callHandler = new ServerCallHandler<TRequest, TResponse>(method, handler, options, logger);
        return endpoints.MapPost(method.FullName, callHandler.HandleAsync)
            .WithDisplayName("gRPC " + method.FullName);
    }

    private static Task HandleUnknownAsync(HttpContext http, RouteState state, ILogger logger)
    {
        var request = http.Request;
        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            // Not a gRPC request at all: an ordinary not-found.
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (!ServerCall.AcceptTransport(http, logger))
        {
            return Task.CompletedTask;
        }

        var path = request.Path.Value ?? "/";
        ServerLog.Unimplemented(logger, path);
        var slash = path.LastIndexOf('/');
        var service = slash > 1 ? path[1..slash] : string.Empty;
        bool known;
        lock (state)
        {
            known = state.Services.Contains(service);
        }

        var detail = known
            ? $"Method '{path[(slash + 1)..]}' of service '{service}' is not implemented."
            : $"Service '{service}' is not implemented (path '{path}').";
        ServerCall.WriteTrailersOnly(http.Response, new Status(StatusCode.Unimplemented, detail), advertiseEncoding: true);
        return Task.CompletedTask;
    }

    private static ILogger CreateLogger(IEndpointRouteBuilder endpoints) =>
        endpoints.ServiceProvider.GetService<ILoggerFactory>()?.CreateLogger(LoggerCategory) ?? NullLogger.Instance;

    private sealed class RouteState
    {
        public HashSet<string> Services { get; } = new(StringComparer.Ordinal);

        public bool FallbackMapped { get; set; }
    }
}
