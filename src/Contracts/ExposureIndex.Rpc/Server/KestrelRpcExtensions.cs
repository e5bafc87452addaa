using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ExposureIndex.Rpc.Server;

/// <summary>Kestrel listen endpoints for cleartext gRPC.</summary>
public static class KestrelRpcExtensions
{
    /// <summary>
    /// Listens on <paramref name="endpoint"/> with HTTP/2 only: cleartext gRPC uses h2c with prior
    /// knowledge, so the port speaks nothing else (no HTTP/1.1 fallback, no upgrade dance). Port 0 picks
    /// a free port; read it back from the server's addresses.
    /// </summary>
    public static void ListenRpc(this KestrelServerOptions kestrel, IPEndPoint endpoint, Action<ListenOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(endpoint);
        kestrel.Listen(endpoint, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            configure?.Invoke(listen);
        });
    }

    /// <summary>Listens on <paramref name="address"/>:<paramref name="port"/> with HTTP/2 only.</summary>
    public static void ListenRpc(this KestrelServerOptions kestrel, IPAddress address, int port, Action<ListenOptions>? configure = null) =>
        ListenRpc(kestrel, new IPEndPoint(address, port), configure);
}
