using System.Net;
using System.Net.Sockets;
using System.Text;
using ExposureIndex.Rpc.Client;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Tests.Conformance;

namespace ExposureIndex.Rpc.Tests.EndToEnd;

/// <summary>What happens to HTTP/1.1 on the gRPC port, and to HTTP/1.1 requests that reach the gRPC code.</summary>
public sealed class Http1Tests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Http1RequestOnHttp2OnlyPort_KestrelAnswers400AndCloses()
    {
        // On a ListenRpc (Http2-only, cleartext) endpoint the request never reaches our middleware:
        // Kestrel itself recognises HTTP/1.x instead of the HTTP/2 preface, answers 400 and closes.
        await using var server = await TestServer.StartAsync();
        using var client = new TcpClient();
        await client.ConnectAsync(server.RpcEndPoint, Ct).AsTask().WaitAsync(Bound, Ct);
        var stream = client.GetStream();
        var request = $"POST /conformance.v1.Echo/Unary HTTP/1.1\r\nHost: {server.RpcEndPoint}\r\nContent-Type: application/grpc\r\nContent-Length: 0\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), Ct).AsTask().WaitAsync(Bound, Ct);

        var response = await ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", response, StringComparison.Ordinal);
        Assert.Contains("Connection: close", response, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("An HTTP/1.x request was sent to an HTTP/2 only endpoint.", response, StringComparison.Ordinal);
        Assert.DoesNotContain("grpc-status", response, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Http1RequestReachingGrpcMethod_426WithUpgrade()
    {
        await using var server = await TestServer.StartAsync(withHttp1Endpoint: true);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = Bound };
        using var content = new ByteArrayContent(MessageFraming.Frame([]));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{server.Http1EndPoint}/conformance.v1.Echo/Unary")
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };

        using var response = await http.SendAsync(request, Ct).WaitAsync(Bound, Ct);

        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
        Assert.Equal(new Version(1, 1), response.Version);
        Assert.Equal("h2c", Assert.Single(response.Headers.Upgrade).Name);
        Assert.Equal("13", response.Headers.GetValues("grpc-status").Single());
        Assert.Contains("HTTP/1.1", StatusMessageEncoding.Decode(response.Headers.GetValues("grpc-message").Single()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http1RequestToUnknownGrpcMethod_426()
    {
        await using var server = await TestServer.StartAsync(withHttp1Endpoint: true);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = Bound };
        using var content = new ByteArrayContent([]);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");

        using var response = await http.PostAsync($"http://{server.Http1EndPoint}/nobody.Service/Method", content, Ct).WaitAsync(Bound, Ct);

        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
    }

    [Fact]
    public async Task OurClientAgainstHttp1OnlyPort_FailsWithTransportStatus()
    {
        // h2c with prior knowledge sends the HTTP/2 preface; an HTTP/1.1-only Kestrel rejects it.
        await using var server = await TestServer.StartAsync(withHttp1Endpoint: true);
        using var channel = RpcChannel.ForAddress($"http://{server.Http1EndPoint}");
        using var call = channel.UnaryCall(EchoMethods.Unary, new EchoRequest());

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.True(error.StatusCode == StatusCode.Unavailable, $"expected Unavailable, got {error.Status}");
    }

    private static async Task<string> ReadToEndAsync(NetworkStream stream)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(Bound);
        var output = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer, cts.Token)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        return Encoding.ASCII.GetString(output.ToArray());
    }
}
