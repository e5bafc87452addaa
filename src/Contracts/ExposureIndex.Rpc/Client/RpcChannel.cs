using System.Net;
using System.Reflection;
using ExposureIndex.Rpc.Core;

namespace ExposureIndex.Rpc.Client;

/// <summary>
/// A client connection pool to one server address. Owns an HttpClient over SocketsHttpHandler with HTTP/2
/// only (h2c with prior knowledge for <c>http://</c>), several HTTP/2 connections when one runs out of
/// streams, and keep-alive PINGs while calls are active. Thread-safe; create one per address and reuse it.
/// </summary>
public sealed class RpcChannel : IDisposable
{
    internal static readonly string UserAgent =
        "grpc-dotnet-exposureindex/" + (typeof(RpcChannel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0");

    private RpcChannel(Uri address, RpcChannelOptions options)
    {
        Address = address;
        Options = options;
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = options.ConnectTimeout,
            InitialHttp2StreamWindowSize = options.InitialHttp2StreamWindowSize,
            // gRPC peers are addressed directly: h2c cannot go through an HTTP proxy, and a proxy must
            // never be asked to reach anything on our behalf.
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        HttpClient = new HttpClient(handler, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>The server address, e.g. <c>http://127.0.0.1:5001/</c>.</summary>
    public Uri Address { get; }

    /// <summary>The channel's settings.</summary>
    public RpcChannelOptions Options { get; }

    internal HttpClient HttpClient { get; }

    /// <summary>Creates a channel to <paramref name="address"/> (<c>http://host:port</c> or <c>https://host:port</c>).</summary>
    public static RpcChannel ForAddress(string address, RpcChannelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"'{address}' is not an absolute URI such as http://127.0.0.1:5001.", nameof(address));
        }

        return ForAddress(uri, options);
    }

    /// <summary>Creates a channel to <paramref name="address"/>.</summary>
    public static RpcChannel ForAddress(Uri address, RpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"Address '{address}' must use http (h2c) or https, not '{address.Scheme}'.", nameof(address));
        }

        if (address.AbsolutePath != "/" || !string.IsNullOrEmpty(address.Query))
        {
            throw new ArgumentException($"Address '{address}' must not have a path or query; gRPC paths are /service/method.", nameof(address));
        }

        return new RpcChannel(address, (options ?? RpcChannelOptions.Default).EnsureValid());
    }

    /// <summary>Starts a unary call.</summary>
    public AsyncUnaryCall<TResponse> UnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
    {
        var call = CreateCall(method, MethodType.Unary, options);
        call.Start(request);
        return new AsyncUnaryCall<TResponse>(call.ReadSingleResponseAsync(), call);
    }

    /// <summary>Starts a client-streaming call.</summary>
    public AsyncClientStreamingCall<TRequest, TResponse> ClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
    {
        var call = CreateCall(method, MethodType.ClientStreaming, options);
        call.StartStreaming();
        return new AsyncClientStreamingCall<TRequest, TResponse>(new ClientRequestStream<TRequest, TResponse>(call), call.ReadSingleResponseAsync(), call);
    }

    /// <summary>Starts a server-streaming call.</summary>
    public AsyncServerStreamingCall<TResponse> ServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
    {
        var call = CreateCall(method, MethodType.ServerStreaming, options);
        call.Start(request);
        return new AsyncServerStreamingCall<TResponse>(new ClientResponseStream<TRequest, TResponse>(call), call);
    }

    /// <summary>Starts a bidirectional streaming call.</summary>
    public AsyncDuplexStreamingCall<TRequest, TResponse> DuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
    {
        var call = CreateCall(method, MethodType.DuplexStreaming, options);
        call.StartStreaming();
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(new ClientRequestStream<TRequest, TResponse>(call), new ClientResponseStream<TRequest, TResponse>(call), call);
    }

    /// <summary>Closes the connections; calls still running fail.</summary>
    public void Dispose() => HttpClient.Dispose();

    private ClientCall<TRequest, TResponse> CreateCall<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType expected, CallOptions options)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Type != expected)
        {
            throw new ArgumentException($"Method {method.FullName} is {method.Type}, but was called as {expected}.", nameof(method));
        }

        return new ClientCall<TRequest, TResponse>(this, method, options);
    }
}

internal sealed class ClientRequestStream<TRequest, TResponse> : IClientStreamWriter<TRequest>
{
    private readonly ClientCall<TRequest, TResponse> _call;

    public ClientRequestStream(ClientCall<TRequest, TResponse> call) => _call = call;

    public Task WriteAsync(TRequest message, CancellationToken cancellationToken = default) => _call.WriteRequestAsync(message, cancellationToken);

    public Task CompleteAsync() => _call.CompleteRequestAsync();
}

internal sealed class ClientResponseStream<TRequest, TResponse> : IAsyncStreamReader<TResponse>
{
    private readonly ClientCall<TRequest, TResponse> _call;

    public ClientResponseStream(ClientCall<TRequest, TResponse> call) => _call = call;

    public TResponse Current => _call.Current;

    public Task<bool> MoveNext(CancellationToken cancellationToken = default) => _call.MoveNextAsync(cancellationToken);
}
