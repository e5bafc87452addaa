using System.Text.Json;
using ExposureIndex.Rpc.Tests.EndToEnd;

namespace ExposureIndex.Rpc.Tests.Interop;

/// <summary>python3-grpcio's client against our Kestrel server.</summary>
public sealed class PythonClientTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Unary_PythonClient_GetsReplyHeadersAndTrailers()
    {
        await using var server = await TestServer.StartAsync();
        var result = await PythonGrpc.RunClientAsync(server.RpcEndPoint.Port, "unary", Ct);

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal("hello from python", result.GetProperty("text").GetString());
        Assert.Equal("0001fe", result.GetProperty("payload").GetString());
        Assert.Equal("py", result.GetProperty("headers").GetProperty("x-echo-header").GetString());
        Assert.Equal("py", result.GetProperty("trailers").GetProperty("x-echo-trailer").GetString());
        Assert.Equal("0001feff", result.GetProperty("trailers").GetProperty("x-blob-bin").GetString());
    }

    [Fact]
    public async Task UnaryError_PythonClient_DecodesStatusNonAsciiMessageAndTrailers()
    {
        await using var server = await TestServer.StartAsync();
        var result = await PythonGrpc.RunClientAsync(server.RpcEndPoint.Port, "unary_error", Ct);

        Assert.Equal(5, result.GetProperty("code").GetInt32());
        Assert.Equal("Schlüssel nicht gefunden – 100% sicher", result.GetProperty("details").GetString());
        Assert.Equal("requested", result.GetProperty("trailers").GetProperty("x-fail-reason").GetString());
    }

    [Fact]
    public async Task HandlerCrash_PythonClient_GetsUnknownWithoutInternals()
    {
        await using var server = await TestServer.StartAsync();
        var result = await PythonGrpc.RunClientAsync(server.RpcEndPoint.Port, "unary_crash", Ct);

        Assert.Equal(2, result.GetProperty("code").GetInt32());
        Assert.DoesNotContain("hunter2", result.GetProperty("details").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deadline_PythonClient_GetsDeadlineExceededAndHandlerIsCancelled()
    {
        await using var server = await TestServer.StartAsync();
        var result = await PythonGrpc.RunClientAsync(server.RpcEndPoint.Port, "deadline", Ct);

        Assert.Equal(4, result.GetProperty("code").GetInt32());
        Assert.Equal("python deadline", await server.Observations.HangCancelled.Task.WaitAsync(Bound, Ct));
        Assert.NotEqual(DateTime.MaxValue, await server.Observations.HangDeadline.Task.WaitAsync(Bound, Ct));
    }

    [Fact]
    public async Task UnknownMethod_PythonClient_GetsUnimplemented()
    {
        await using var server = await TestServer.StartAsync();
        var result = await PythonGrpc.RunClientAsync(server.RpcEndPoint.Port, "unknown", Ct);

        Assert.Equal(12, result.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task ServerStreaming_PythonClient_ReceivesAllInOrder()
    {
        await using var server = await TestServer.StartAsync();
        var result = await PythonGrpc.RunClientAsync(server.RpcEndPoint.Port, "server_stream", Ct);

        Assert.Equal(500, result.GetProperty("count").GetInt32());
        Assert.True(result.GetProperty("in_order").GetBoolean());
    }

    [Fact]
    public async Task ServerStreamingError_PythonClient_GetsMessagesThenTrailerStatus()
    {
        await using var server = await TestServer.StartAsync();
        var result = await PythonGrpc.RunClientAsync(server.RpcEndPoint.Port, "server_stream_error", Ct);

        Assert.Equal(10, result.GetProperty("code").GetInt32());
        Assert.Equal("halt", result.GetProperty("details").GetString());
        Assert.Equal([0, 1, 2, 3], result.GetProperty("received").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public async Task ClientStreaming_PythonClient_ServerCountsAll()
    {
        await using var server = await TestServer.StartAsync();
        var result = await PythonGrpc.RunClientAsync(server.RpcEndPoint.Port, "client_stream", Ct);

        Assert.Equal(1000, result.GetProperty("count").GetInt32());
        Assert.Equal(Enumerable.Range(0, 1000).Sum(i => i % 50), result.GetProperty("total_bytes").GetInt64());
    }

    [Fact]
    public async Task Duplex_PythonClient_AllRepliesInOrder()
    {
        await using var server = await TestServer.StartAsync();
        var result = await PythonGrpc.RunClientAsync(server.RpcEndPoint.Port, "duplex", Ct);

        Assert.Equal(2000, result.GetProperty("count").GetInt32());
        Assert.True(result.GetProperty("in_order").GetBoolean());
        Assert.True(result.GetProperty("texts_ok").GetBoolean());
    }

    [Fact]
    public async Task DuplexPingPong_PythonClient_NeverStarved()
    {
        await using var server = await TestServer.StartAsync();
        var result = await PythonGrpc.RunClientAsync(server.RpcEndPoint.Port, "duplex_pingpong", Ct);

        Assert.False(result.TryGetProperty("error", out var error), error.ToString());
        Assert.Equal(100, result.GetProperty("rounds").GetInt32());
    }

    [Fact]
    public async Task DuplexError_PythonClient_GetsRepliesThenStatus()
    {
        await using var server = await TestServer.StartAsync();
        var result = await PythonGrpc.RunClientAsync(server.RpcEndPoint.Port, "duplex_error", Ct);

        Assert.Equal(3, result.GetProperty("code").GetInt32());
        Assert.Equal("bad batch", result.GetProperty("details").GetString());
        Assert.Equal(["a", "b"], result.GetProperty("received").EnumerateArray().Select(e => e.GetString()));
    }
}
