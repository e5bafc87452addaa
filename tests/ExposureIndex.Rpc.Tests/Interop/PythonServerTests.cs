using ExposureIndex.Rpc.Client;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Tests.Conformance;
using ExposureIndex.Rpc.Tests.EndToEnd;
using ExposureIndex.TestCommon;
using Google.Protobuf;

namespace ExposureIndex.Rpc.Tests.Interop;

/// <summary>Our client against python3-grpcio's server.</summary>
public sealed class PythonServerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Unary_PythonServer_ReplyHeadersAndTrailers()
    {
        await using var server = await PythonGrpc.StartServerAsync(Ct);
        using var channel = RpcChannel.ForAddress(server.Address);
        var headers = new Metadata().Add("x-echo", "dotnet").Add("x-blob-bin", new byte[] { 9, 0, 255 });
        using var call = channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Text = "hi python", Payload = ByteString.CopyFrom(1, 2, 3) }, new CallOptions(Headers: headers));

        var reply = await call.ResponseAsync.WaitAsync(Bound, Ct);

        Assert.Equal("hi python", reply.Text);
        Assert.Equal(new byte[] { 1, 2, 3 }, reply.Payload.ToByteArray());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal("dotnet", (await call.ResponseHeadersAsync).GetValue("x-echo-header"));
        Assert.Equal("dotnet", call.GetTrailers().GetValue("x-echo-trailer"));
        Assert.Equal(new byte[] { 9, 0, 255 }, call.GetTrailers().GetValueBytes("x-blob-bin"));
    }

    [Fact]
    public async Task UnaryError_PythonServer_StatusNonAsciiMessageAndTrailers()
    {
        await using var server = await PythonGrpc.StartServerAsync(Ct);
        using var channel = RpcChannel.ForAddress(server.Address);
        const string message = "Größe überschritten – 100% voll ✓";
        using var call = channel.UnaryCall(EchoMethods.Unary, new EchoRequest { FailCode = (int)StatusCode.FailedPrecondition, FailMessage = message });

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
        Assert.Equal("requested", error.Trailers.GetValue("x-fail-reason"));
    }

    [Fact]
    public async Task UnknownMethod_PythonServer_Unimplemented()
    {
        await using var server = await PythonGrpc.StartServerAsync(Ct);
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.UnaryCall(EchoMethods.Missing, new EchoRequest());

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }

    [Fact]
    public async Task Deadline_PythonServerHangs_DeadlineExceededAndServerSeesCancellation()
    {
        await using var server = await PythonGrpc.StartServerAsync(Ct);
        using var channel = RpcChannel.ForAddress(server.Address);
        using (var warmUp = channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Text = "warm-up" }))
        {
            await warmUp.ResponseAsync.WaitAsync(Bound, Ct);
        }

        using var call = channel.UnaryCall(EchoMethods.Hang, new EchoRequest { Text = "dotnet deadline" }, new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(1.5)));

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.True(await Poll.UntilAsync(() => server.Lines.Contains("HANG-ENDED dotnet deadline"), Bound, Ct), "python handler never saw the call end; stderr: " + server.Stderr);
    }

    [Fact]
    public async Task Duplex_PythonServer_AllRepliesInOrder()
    {
        await using var server = await PythonGrpc.StartServerAsync(Ct);
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.DuplexStreamingCall(EchoMethods.Chat);
        const int count = 2000;

        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < count; i++)
            {
                await call.RequestStream.WriteAsync(new EchoRequest { Text = $"m{i}", Payload = ByteString.CopyFrom(new byte[i % 300]) }, Ct);
            }

            await call.RequestStream.CompleteAsync();
        }, Ct);

        var received = 0;
        while (await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct))
        {
            Assert.Equal($"m{received}", call.ResponseStream.Current.Text);
            Assert.Equal(received % 300, call.ResponseStream.Current.Payload.Length);
            received++;
        }

        await writer.WaitAsync(Bound, Ct);
        Assert.Equal(count, received);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task DuplexPingPong_PythonServer_EveryRequestDeliveredWithoutMoreWrites()
    {
        // Our client batches request messages: each one must still reach the python server on its own.
        await using var server = await PythonGrpc.StartServerAsync(Ct);
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.DuplexStreamingCall(EchoMethods.Chat);

        for (var i = 0; i < 100; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = $"p{i}" }, Ct).WaitAsync(Bound, Ct);
            Assert.True(await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
            Assert.Equal($"p{i}", call.ResponseStream.Current.Text);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(Bound, Ct);
        Assert.False(await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
    }

    [Fact]
    public async Task DuplexError_PythonServer_RepliesThenStatusFromTrailers()
    {
        await using var server = await PythonGrpc.StartServerAsync(Ct);
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.DuplexStreamingCall(EchoMethods.Chat);

        await call.RequestStream.WriteAsync(new EchoRequest { Text = "a" }, Ct).WaitAsync(Bound, Ct);
        Assert.True(await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
        await call.RequestStream.WriteAsync(new EchoRequest { Text = "b", FailCode = (int)StatusCode.OutOfRange, FailAfter = 1, FailMessage = "too far" }, Ct).WaitAsync(Bound, Ct);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
        Assert.Equal(StatusCode.OutOfRange, error.StatusCode);
        Assert.Equal("too far", error.Status.Detail);
    }

    [Fact]
    public async Task ServerStreaming_PythonServer_ReceivesAll()
    {
        await using var server = await PythonGrpc.StartServerAsync(Ct);
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.ServerStreamingCall(EchoMethods.Expand, new EchoRequest { Repeat = 300, ReplySize = 1000 });

        var count = 0;
        await foreach (var reply in call.ResponseStream.ReadAllAsync(Ct).WithCancellation(Ct))
        {
            Assert.Equal(count++, reply.Index);
            Assert.Equal(1000, reply.Payload.Length);
        }

        Assert.Equal(300, count);
    }

    [Fact]
    public async Task ClientStreaming_PythonServer_CountsAll()
    {
        await using var server = await PythonGrpc.StartServerAsync(Ct);
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.ClientStreamingCall(EchoMethods.Collect);
        for (var i = 0; i < 500; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = $"c{i}", Payload = ByteString.CopyFrom(new byte[10]) }, Ct).WaitAsync(Bound, Ct);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(Bound, Ct);
        var reply = await call.ResponseAsync.WaitAsync(Bound, Ct);

        Assert.Equal(500, reply.Count);
        Assert.Equal(5000, reply.TotalBytes);
    }
}
