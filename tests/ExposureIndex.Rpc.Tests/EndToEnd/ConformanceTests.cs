using System.Net;
using System.Net.Sockets;
using ExposureIndex.Rpc.Client;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Server;
using ExposureIndex.Rpc.Tests.Conformance;
using ExposureIndex.TestCommon;
using Google.Protobuf;

namespace ExposureIndex.Rpc.Tests.EndToEnd;

/// <summary>Our client against our server, over a real Kestrel on 127.0.0.1 (HTTP/2 cleartext).</summary>
public sealed class ConformanceTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Unary_Request_ReturnsReplyAndOkWithMetadata()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        var headers = new Metadata().Add("x-echo", "ping").Add("x-blob-bin", new byte[] { 0, 1, 0xfe, 0xff });
        using var call = channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Text = "hello", Payload = ByteString.CopyFromUtf8("abc") }, new CallOptions(Headers: headers));

        var reply = await call.ResponseAsync.WaitAsync(Bound, Ct);

        Assert.Equal("hello", reply.Text);
        Assert.Equal("abc", reply.Payload.ToStringUtf8());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal("ping", (await call.ResponseHeadersAsync.WaitAsync(Bound, Ct)).GetValue("x-echo-header"));
        Assert.Equal("ping", call.GetTrailers().GetValue("x-echo-trailer"));
        Assert.Equal(new byte[] { 0, 1, 0xfe, 0xff }, call.GetTrailers().GetValueBytes("x-blob-bin"));
        var seen = await server.Observations.UnaryHeaders.Task.WaitAsync(Bound, Ct);
        Assert.Null(seen.Get("grpc-timeout"));
        Assert.Null(seen.Get("te"));
    }

    [Fact]
    public async Task Unary_HandlerThrowsRpcException_ClientGetsStatusMessageAndTrailers()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        const string message = "Schlüssel nicht gefunden – 100% sicher 🚫";
        using var call = channel.UnaryCall(EchoMethods.Unary, new EchoRequest { FailCode = (int)StatusCode.NotFound, FailMessage = message });

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
        Assert.Equal("requested", error.Trailers.GetValue("x-fail-reason"));
        Assert.Equal(error.Status, call.GetStatus());
    }

    [Fact]
    public async Task Unary_HandlerThrowsPlainException_ClientGetsUnknownWithoutInternals()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.UnaryCall(EchoMethods.Unary, new EchoRequest { FailCode = -1 });

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        Assert.DoesNotContain("secret", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unary_ManyConcurrentCalls_AllSucceed()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        var calls = Enumerable.Range(0, 200).Select(async i =>
        {
            using var call = channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Text = $"call {i}" });
            return (await call.ResponseAsync).Text;
        });

        var replies = await Task.WhenAll(calls).WaitAsync(Bound, Ct);

        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"call {i}"), replies);
    }

    [Fact]
    public async Task ClientStreaming_ManyMessages_ServerReceivesAllAndReplies()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.ClientStreamingCall(EchoMethods.Collect);
        for (var i = 0; i < 2000; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = $"m{i}", Payload = ByteString.CopyFrom(new byte[i % 100]) }, Ct).WaitAsync(Bound, Ct);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(Bound, Ct);
        var reply = await call.ResponseAsync.WaitAsync(Bound, Ct);

        Assert.Equal(2000, reply.Count);
        Assert.Equal(Enumerable.Range(0, 2000).Sum(i => i % 100), reply.TotalBytes);
        Assert.Equal("m1999", reply.Text);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ClientStreaming_NoMessages_ServerRepliesWithZeroCount()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.ClientStreamingCall(EchoMethods.Collect);
        await call.RequestStream.CompleteAsync().WaitAsync(Bound, Ct);

        var reply = await call.ResponseAsync.WaitAsync(Bound, Ct);

        Assert.Equal(0, reply.Count);
    }

    [Fact]
    public async Task ServerStreaming_ManyReplies_ArriveInOrderThenOk()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.ServerStreamingCall(EchoMethods.Expand, new EchoRequest { Text = "x", Repeat = 5000, ReplySize = 30 });

        var indexes = new List<int>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync(Ct).WithCancellation(Ct))
        {
            indexes.Add(reply.Index);
        }

        Assert.Equal(Enumerable.Range(0, 5000), indexes);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ServerStreaming_ErrorAfterMessages_MessagesThenStatusFromTrailers()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.ServerStreamingCall(EchoMethods.Expand, new EchoRequest { Repeat = 10, FailAfter = 3, FailCode = (int)StatusCode.Aborted, FailMessage = "stopped at 3" });

        var received = 0;
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct))
            {
                Assert.Equal(received++, call.ResponseStream.Current.Index);
            }
        });

        Assert.Equal(3, received);
        Assert.Equal(StatusCode.Aborted, error.StatusCode);
        Assert.Equal("stopped at 3", error.Status.Detail);
        Assert.Equal("requested", call.GetTrailers().GetValue("x-fail-reason"));
    }

    [Fact]
    public async Task ServerStreaming_ErrorBeforeAnyMessage_TrailersOnlyStatus()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.ServerStreamingCall(EchoMethods.Expand, new EchoRequest { Repeat = 10, FailAfter = 0, FailCode = (int)StatusCode.PermissionDenied, FailMessage = "no" });

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal("requested", error.Trailers.GetValue("x-fail-reason"));
    }

    [Fact]
    public async Task ServerStreaming_NoMessages_EndsOk()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.ServerStreamingCall(EchoMethods.Expand, new EchoRequest { Repeat = 0 });

        Assert.False(await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Duplex_PingPong_EveryReplyArrivesBeforeTheNextRequest()
    {
        // A duplex peer that waits for each reply must never be starved by response batching.
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.DuplexStreamingCall(EchoMethods.Chat);

        for (var i = 0; i < 300; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = $"ping {i}" }, Ct).WaitAsync(Bound, Ct);
            Assert.True(await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
            Assert.Equal($"ping {i}", call.ResponseStream.Current.Text);
            Assert.Equal(i, call.ResponseStream.Current.Index);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(Bound, Ct);
        Assert.False(await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Duplex_ConcurrentWriterAndReader_AllMessagesBothWays()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.DuplexStreamingCall(EchoMethods.Chat);
        const int count = 20_000;

        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < count; i++)
            {
                await call.RequestStream.WriteAsync(new EchoRequest { Text = "m", Payload = ByteString.CopyFrom(new byte[i % 200]) }, Ct);
            }

            await call.RequestStream.CompleteAsync();
        }, Ct);

        var received = 0;
        while (await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct))
        {
            Assert.Equal(received, call.ResponseStream.Current.Index);
            Assert.Equal(received % 200, call.ResponseStream.Current.Payload.Length);
            received++;
        }

        await writer.WaitAsync(Bound, Ct);
        Assert.Equal(count, received);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Duplex_ServerFailsMidStream_ClientReadsRepliesThenStatus()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.DuplexStreamingCall(EchoMethods.Chat);

        await call.RequestStream.WriteAsync(new EchoRequest { Text = "a" }, Ct).WaitAsync(Bound, Ct);
        Assert.True(await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
        await call.RequestStream.WriteAsync(new EchoRequest { Text = "b", FailCode = (int)StatusCode.InvalidArgument, FailAfter = 1, FailMessage = "bad batch" }, Ct).WaitAsync(Bound, Ct);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("bad batch", error.Status.Detail);

        // The call is over: further writes report its status.
        var writeError = await Assert.ThrowsAsync<RpcException>(() => call.RequestStream.WriteAsync(new EchoRequest(), Ct).WaitAsync(Bound, Ct));
        Assert.Equal(StatusCode.InvalidArgument, writeError.StatusCode);
    }

    [Fact]
    public async Task UnknownMethod_KnownService_Unimplemented()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.UnaryCall(EchoMethods.Missing, new EchoRequest());

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Contains("Missing", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownService_Unimplemented()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.UnaryCall(EchoMethods.MissingService, new EchoRequest());

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Contains("conformance.v1.Nobody", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deadline_HandlerHangs_ClientGetsDeadlineExceededAndServerHandlerIsCancelled()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        await WarmUpAsync(channel);

        // Generous: the handler must be running before the deadline passes, even on a loaded machine.
        using var call = channel.UnaryCall(EchoMethods.Hang, new EchoRequest { Text = "deadline" }, new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(2)));

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.NotEqual(DateTime.MaxValue, await server.Observations.HangDeadline.Task.WaitAsync(Bound, Ct));
        Assert.Equal("deadline", await server.Observations.HangCancelled.Task.WaitAsync(Bound, Ct));
    }

    [Fact]
    public async Task Deadline_Short_ClientFailsLocallyWithDeadlineExceeded()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.UnaryCall(EchoMethods.Hang, new EchoRequest(), new CallOptions(Deadline: DateTime.UtcNow.AddMilliseconds(50)));

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(StatusCode.DeadlineExceeded, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Deadline_AlreadyPassed_FailsLocallyWithoutSending()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.UnaryCall(EchoMethods.Hang, new EchoRequest(), new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(-1)));

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.False(server.Observations.HangDeadline.Task.IsCompleted);
    }

    [Fact]
    public async Task Deadline_DuplexStream_PendingReadFailsWithDeadlineExceeded()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        await WarmUpAsync(channel);
        using var call = channel.DuplexStreamingCall(EchoMethods.Chat, new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(2)));

        await call.RequestStream.WriteAsync(new EchoRequest { Text = "one" }, Ct).WaitAsync(Bound, Ct);
        Assert.True(await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));

        // No further request: the next read can only end by the deadline.
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
    }

    [Fact]
    public async Task Cancellation_ClientCancelsToken_ClientGetsCancelledAndServerHandlerObservesIt()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var cts = new CancellationTokenSource();
        using var call = channel.UnaryCall(EchoMethods.Hang, new EchoRequest { Text = "cancel me" }, new CallOptions(CancellationToken: cts.Token));

        // Cancel only once the handler is running, so the server must learn it from RST_STREAM.
        await server.Observations.HangDeadline.Task.WaitAsync(Bound, Ct);
        await cts.CancelAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        Assert.Equal("cancel me", await server.Observations.HangCancelled.Task.WaitAsync(Bound, Ct));
        Assert.Equal(DateTime.MaxValue, await server.Observations.HangDeadline.Task);
    }

    [Fact]
    public async Task Cancellation_DisposeDuplexCall_ServerHandlerObservesIt()
    {
        var handlerCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handlerStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var method = new Method<EchoRequest, EchoReply>(MethodType.DuplexStreaming, "conformance.v1.Extra", "Wait", Marshallers.ForProtobuf<EchoRequest>(), Marshallers.ForProtobuf<EchoReply>());
        await using var server = await TestServer.StartAsync(extra: app => app.MapRpcDuplex(method, async (requests, responses, context) =>
        {
            handlerStarted.TrySetResult();
            try
            {
                await requests.MoveNext(context.CancellationToken);
                await Task.Delay(Timeout.InfiniteTimeSpan, context.CancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                handlerCancelled.TrySetResult();
                throw;
            }
        }));
        using var channel = RpcChannel.ForAddress(server.Address);
        var call = channel.DuplexStreamingCall(method);
        await call.RequestStream.WriteAsync(new EchoRequest(), Ct).WaitAsync(Bound, Ct);
        await handlerStarted.Task.WaitAsync(Bound, Ct);

        call.Dispose();

        await handlerCancelled.Task.WaitAsync(Bound, Ct);
        Assert.Equal(StatusCode.Cancelled, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task SizeLimit_RequestOverServerLimit_ResourceExhausted()
    {
        await using var server = await TestServer.StartAsync(new RpcServerOptions { MaxReceiveMessageSize = 1024 });
        using var channel = RpcChannel.ForAddress(server.Address);
        using var ok = channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Payload = ByteString.CopyFrom(new byte[900]) });
        await ok.ResponseAsync.WaitAsync(Bound, Ct);

        using var call = channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Payload = ByteString.CopyFrom(new byte[4096]) });
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("1024", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SizeLimit_ResponseOverClientLimit_ResourceExhausted()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address, new RpcChannelOptions { MaxReceiveMessageSize = 2048 });
        using var call = channel.ServerStreamingCall(EchoMethods.Expand, new EchoRequest { Repeat = 3, ReplySize = 100_000 });

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("2048", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SizeLimit_RequestOverClientSendLimit_ResourceExhaustedWithoutSending()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address, new RpcChannelOptions { MaxSendMessageSize = 100 });
        using var unary = channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Payload = ByteString.CopyFrom(new byte[500]) });
        Assert.Equal(StatusCode.ResourceExhausted, (await Assert.ThrowsAsync<RpcException>(() => unary.ResponseAsync.WaitAsync(Bound, Ct))).StatusCode);

        using var duplex = channel.DuplexStreamingCall(EchoMethods.Chat);
        var error = await Assert.ThrowsAsync<RpcException>(() => duplex.RequestStream.WriteAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[500]) }, Ct).WaitAsync(Bound, Ct));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, duplex.GetStatus().StatusCode);
    }

    [Fact]
    public async Task SizeLimit_ServerSendLimit_HandlerGetsResourceExhausted()
    {
        await using var server = await TestServer.StartAsync(new RpcServerOptions { MaxSendMessageSize = 1000 });
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.ServerStreamingCall(EchoMethods.Expand, new EchoRequest { Repeat = 2, ReplySize = 5000 });

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Transport_ConnectionRefused_Unavailable()
    {
        // A fresh address, where nothing listens or will: a port on the shared 127.0.0.1 could be taken meanwhile.
        var address = Loopback.NextAddress();
        var port = Loopback.FreeTcpPort(address);
        using var channel = RpcChannel.ForAddress($"http://{address}:{port}");
        using var call = channel.UnaryCall(EchoMethods.Unary, new EchoRequest());

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        await Assert.ThrowsAsync<RpcException>(() => call.ResponseHeadersAsync.WaitAsync(Bound, Ct));
    }

    [Fact]
    public async Task Transport_ConnectionRefused_DuplexWriteAndReadFailUnavailable()
    {
        var address = Loopback.NextAddress();
        var port = Loopback.FreeTcpPort(address);
        using var channel = RpcChannel.ForAddress($"http://{address}:{port}");
        using var call = channel.DuplexStreamingCall(EchoMethods.Chat);

        var readError = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
        var writeError = await Assert.ThrowsAsync<RpcException>(() => call.RequestStream.WriteAsync(new EchoRequest(), Ct).WaitAsync(Bound, Ct));

        Assert.Equal(StatusCode.Unavailable, readError.StatusCode);
        Assert.Equal(StatusCode.Unavailable, writeError.StatusCode);
    }

    [Fact]
    public async Task Transport_PeerClosesWithoutHttp2_Unavailable()
    {
        // A TCP listener that accepts and closes at once: no HTTP/2 at all.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accept = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(Ct);
            socket.Close();
        }, Ct);
        using var channel = RpcChannel.ForAddress($"http://{listener.LocalEndpoint}");
        using var call = channel.UnaryCall(EchoMethods.Unary, new EchoRequest());

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound, Ct));

        Assert.True(error.StatusCode == StatusCode.Unavailable, $"expected Unavailable, got {error.Status}");
        await accept.WaitAsync(Bound, Ct);
    }

    [Theory]
    [InlineData("ServiceUnavailable", StatusCode.Unavailable)]
    [InlineData("Forbidden", StatusCode.PermissionDenied)]
    [InlineData("Html", StatusCode.Unknown)]
    [InlineData("NoStatus", StatusCode.Unknown)]
    [InlineData("UndefinedStatus", StatusCode.Unknown)]
    [InlineData("GarbledStatus", StatusCode.Unknown)]
    [InlineData("ResetCancel", StatusCode.Cancelled)]
    [InlineData("ResetRefused", StatusCode.Unavailable)]
    public async Task BrokenServer_ResponseWithoutGrpcStatus_StatusSynthesizedPerSpec(string endpoint, StatusCode expected)
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        var method = new Method<EchoRequest, EchoReply>(MethodType.ServerStreaming, "broken.Proxy", endpoint, Marshallers.ForProtobuf<EchoRequest>(), Marshallers.ForProtobuf<EchoReply>());
        using var call = channel.ServerStreamingCall(method, new EchoRequest());

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct))
            {
            }
        });

        Assert.Equal(expected, error.StatusCode);
        Assert.Equal(expected, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task IngestPublish_DuplexBatches_AckedPerBatch()
    {
        // The product's own descriptor over the transport, with real records.
        var method = Services.IngestRpc.Publish;
        await using var server = await TestServer.StartAsync(extra: app => app.MapRpcDuplex(method, async (batches, acks, context) =>
        {
            await foreach (var batch in batches.ReadAllAsync(context.CancellationToken))
            {
                await acks.WriteAsync(new Contracts.V1.PublishAck { Sequence = batch.Sequence, Accepted = (uint)batch.Records.Count }, context.CancellationToken);
            }
        }));
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.DuplexStreamingCall(method);

        for (ulong sequence = 1; sequence <= 5; sequence++)
        {
            var batch = new Contracts.V1.PublishBatch { Sequence = sequence, Producer = "test/0" };
            for (var i = 0; i < 100; i++)
            {
                batch.Records.Add(new Contracts.V1.ServiceRecord { Ip = $"192.0.2.{i}", Port = 80, Transport = Contracts.V1.Transport.Tcp, Product = "nginx" });
            }

            await call.RequestStream.WriteAsync(batch, Ct).WaitAsync(Bound, Ct);
            Assert.True(await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
            Assert.Equal(sequence, call.ResponseStream.Current.Sequence);
            Assert.Equal(100u, call.ResponseStream.Current.Accepted);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(Bound, Ct);
        Assert.False(await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
        Assert.Equal("/exposure.v1.Ingest/Publish", method.FullName);
    }

    [Fact]
    public async Task GetStatus_BeforeCompletion_Throws()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        using var call = channel.DuplexStreamingCall(EchoMethods.Chat);

        Assert.Throws<InvalidOperationException>(() => call.GetStatus());
        Assert.Throws<InvalidOperationException>(() => call.GetTrailers());
        await call.RequestStream.CompleteAsync().WaitAsync(Bound, Ct);
        Assert.False(await call.ResponseStream.MoveNext(Ct).WaitAsync(Bound, Ct));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    private static async Task WarmUpAsync(RpcChannel channel)
    {
        // Opens the HTTP/2 connection, so a later deadline measures the call, not the TCP handshake.
        using var warmUp = channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Text = "warm-up" });
        await warmUp.ResponseAsync.WaitAsync(Bound, Ct);
    }
}
