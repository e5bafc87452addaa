using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Server;
using ExposureIndex.Rpc.Tests.Conformance;
using Google.Protobuf;
using Microsoft.AspNetCore.Routing;

namespace ExposureIndex.Rpc.Tests.EndToEnd;

/// <summary>Descriptors of the test service conformance.v1.Echo.</summary>
internal static class EchoMethods
{
    public const string Service = "conformance.v1.Echo";

    public static readonly Method<EchoRequest, EchoReply> Unary = Create(MethodType.Unary, "Unary");
    public static readonly Method<EchoRequest, EchoReply> Collect = Create(MethodType.ClientStreaming, "Collect");
    public static readonly Method<EchoRequest, EchoReply> Expand = Create(MethodType.ServerStreaming, "Expand");
    public static readonly Method<EchoRequest, EchoReply> Chat = Create(MethodType.DuplexStreaming, "Chat");
    public static readonly Method<EchoRequest, EchoReply> Hang = Create(MethodType.Unary, "Hang");

    /// <summary>Not mapped by the server: for UNIMPLEMENTED tests.</summary>
    public static readonly Method<EchoRequest, EchoReply> Missing = Create(MethodType.Unary, "Missing");

    /// <summary>A service the server does not know.</summary>
    public static readonly Method<EchoRequest, EchoReply> MissingService = new(MethodType.Unary, "conformance.v1.Nobody", "Unary", Marshallers.ForProtobuf<EchoRequest>(), Marshallers.ForProtobuf<EchoReply>());

    private static Method<EchoRequest, EchoReply> Create(MethodType type, string name) =>
        new(type, Service, name, Marshallers.ForProtobuf<EchoRequest>(), Marshallers.ForProtobuf<EchoReply>());
}

/// <summary>What the server-side handlers observed, for assertions.</summary>
internal sealed class EchoObservations
{
    public TaskCompletionSource<string> HangCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<DateTime> HangDeadline { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<Metadata> UnaryHeaders { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>The test service's handlers (the Python server in Interop/python implements the same behaviour).</summary>
internal static class EchoService
{
    public static void Map(IEndpointRouteBuilder endpoints, EchoObservations observations)
    {
        endpoints.MapRpcUnary(EchoMethods.Unary, async (request, context) =>
        {
            observations.UnaryHeaders.TrySetResult(context.RequestHeaders);
            if (context.RequestHeaders.GetValue("x-echo") is { } echo)
            {
                await context.WriteResponseHeadersAsync(new Metadata().Add("x-echo-header", echo));
                context.ResponseTrailers.Add("x-echo-trailer", echo);
            }

            if (context.RequestHeaders.GetValueBytes("x-blob-bin") is { } blob)
            {
                context.ResponseTrailers.Add("x-blob-bin", blob);
            }

            Fail(request);
            return Reply(request, 0);
        });

        endpoints.MapRpcClientStreaming(EchoMethods.Collect, async (requests, context) =>
        {
            var count = 0;
            long bytes = 0;
            EchoRequest? last = null;
            await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
            {
                count++;
                bytes += request.Payload.Length;
                last = request;
            }

            if (last is not null)
            {
                Fail(last);
            }

            return new EchoReply { Text = last?.Text ?? string.Empty, Count = count, TotalBytes = bytes };
        });

        endpoints.MapRpcServerStreaming(EchoMethods.Expand, async (request, responses, context) =>
        {
            for (var i = 0; i < request.Repeat; i++)
            {
                if (request.FailCode != 0 && i == request.FailAfter)
                {
                    Fail(request);
                }

                await responses.WriteAsync(Reply(request, i), context.CancellationToken);
            }

            if (request.FailCode != 0 && request.FailAfter >= request.Repeat)
            {
                Fail(request);
            }
        });

        endpoints.MapRpcDuplex(EchoMethods.Chat, async (requests, responses, context) =>
        {
            var index = 0;
            await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
            {
                if (request.FailCode != 0 && index >= request.FailAfter)
                {
                    Fail(request);
                }

                await responses.WriteAsync(Reply(request, index++), context.CancellationToken);
            }
        });

        endpoints.MapRpcUnary(EchoMethods.Hang, async (request, context) =>
        {
            observations.HangDeadline.TrySetResult(context.Deadline);
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                observations.HangCancelled.TrySetResult(request.Text);
                throw;
            }

            return new EchoReply();
        });
    }

    private static EchoReply Reply(EchoRequest request, int index)
    {
        var reply = new EchoReply { Text = request.Text, Index = index };
        reply.Payload = request.ReplySize > 0 ? ByteString.CopyFrom(new byte[request.ReplySize]) : request.Payload;
        return reply;
    }

    private static void Fail(EchoRequest request)
    {
        switch (request.FailCode)
        {
            case 0:
                return;
            case -1:
                throw new InvalidOperationException("secret internal detail: connection string Server=db;Password=hunter2");
            default:
                throw new RpcException(
                    new Status((StatusCode)request.FailCode, request.FailMessage),
                    new Metadata().Add("x-fail-reason", "requested"));
        }
    }
}
