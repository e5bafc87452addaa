using System.Net;
using ExposureIndex.Rpc.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Rpc.Tests.EndToEnd;

/// <summary>
/// A real Kestrel server on 127.0.0.1:0 with the Echo service on an Http2-only endpoint (ListenRpc), and
/// optionally a second, HTTP/1.1 endpoint, plus a few deliberately broken plain-HTTP endpoints that let
/// the client's status synthesis be tested against real responses.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;

    private TestServer(WebApplication app, ListenOptions rpc, ListenOptions? http1, EchoObservations observations)
    {
        _app = app;
        Observations = observations;
        RpcEndPoint = rpc.IPEndPoint!;
        Http1EndPoint = http1?.IPEndPoint;
    }

    public EchoObservations Observations { get; }

    public IPEndPoint RpcEndPoint { get; }

    public IPEndPoint? Http1EndPoint { get; }

    public string Address => $"http://{RpcEndPoint}";

    public static async Task<TestServer> StartAsync(RpcServerOptions? options = null, bool withHttp1Endpoint = false, Action<WebApplication>? extra = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddRpcServer(options);
        ListenOptions? rpc = null;
        ListenOptions? http1 = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenRpc(IPAddress.Loopback, 0, listen => rpc = listen);
            if (withHttp1Endpoint)
            {
                kestrel.Listen(IPAddress.Loopback, 0, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    http1 = listen;
                });
            }
        });

        var app = builder.Build();
        var observations = new EchoObservations();
        EchoService.Map(app, observations);
        MapBrokenEndpoints(app);
        extra?.Invoke(app);
        using var cts = new CancellationTokenSource(StartTimeout);
        await app.StartAsync(cts.Token);
        return new TestServer(app, rpc!, http1, observations);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }

    /// <summary>Plain HTTP endpoints that behave like broken proxies or misbehaving servers.</summary>
    private static void MapBrokenEndpoints(WebApplication app)
    {
        app.MapPost("/broken.Proxy/ServiceUnavailable", http =>
        {
            http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return http.Response.WriteAsync("upstream down");
        });
        app.MapPost("/broken.Proxy/Forbidden", http =>
        {
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        });
        app.MapPost("/broken.Proxy/Html", http =>
        {
            http.Response.ContentType = "text/html";
            return http.Response.WriteAsync("<html>hello</html>");
        });
        app.MapPost("/broken.Proxy/NoStatus", async http =>
        {
            http.Response.ContentType = "application/grpc";
            await http.Response.Body.WriteAsync(new byte[] { 0, 0, 0, 0, 0 });
        });
        app.MapPost("/broken.Proxy/UndefinedStatus", http =>
        {
            http.Response.ContentType = "application/grpc";
            http.Response.Headers["grpc-status"] = "99";
            return Task.CompletedTask;
        });
        app.MapPost("/broken.Proxy/GarbledStatus", http =>
        {
            http.Response.ContentType = "application/grpc";
            http.Response.Headers["grpc-status"] = "zero";
            return Task.CompletedTask;
        });
        app.MapPost("/broken.Proxy/ResetCancel", async http =>
        {
            http.Response.ContentType = "application/grpc";
            await http.Response.Body.FlushAsync();
            http.Features.Get<IHttpResetFeature>()!.Reset(0x8);
        });
        app.MapPost("/broken.Proxy/ResetRefused", http =>
        {
            http.Features.Get<IHttpResetFeature>()!.Reset(0x7);
            return Task.CompletedTask;
        });
    }
}
