using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Core.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Rpc.Server;

/// <summary>The request delegate of one mapped method: validates, runs the handler, ends with a status.</summary>
internal sealed class ServerCallHandler<TRequest, TResponse>
{
    private readonly Method<TRequest, TResponse> _method;
    private readonly RpcServerOptions _options;
    private readonly ILogger _logger;
    private readonly Delegate _handler;

    public ServerCallHandler(Method<TRequest, TResponse> method, Delegate handler, RpcServerOptions options, ILogger logger)
    {
        _method = method;
        _handler = handler;
        _options = options;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext http)
    {
        if (!ServerCall.AcceptTransport(http, _logger))
        {
            return;
        }

        // PROTOCOL-HTTP2: the path is case-sensitive, while ASP.NET Core routing is not.
        if (!string.Equals(http.Request.Path.Value, _method.FullName, StringComparison.Ordinal))
        {
            ServerLog.Unimplemented(_logger, http.Request.Path.Value ?? "/");
            ServerCall.WriteTrailersOnly(http.Response, new Status(StatusCode.Unimplemented, $"Method '{http.Request.Path.Value}' is not implemented."), advertiseEncoding: true);
            return;
        }

        using var call = new ServerCall(http, _method.FullName, _options, _logger);
        if (!call.Start())
        {
            return;
        }

        Status status;
        Metadata? trailers = null;
        try
        {
            await RunHandlerAsync(call).ConfigureAwait(false);
            status = call.Context.Status;
        }
#pragma warning disable CA1031 // Every handler failure becomes a gRPC status; nothing may escape to Kestrel.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            (status, trailers) = call.StatusFromException(ex);
        }

        await call.CompleteAsync(status, trailers).ConfigureAwait(false);
        await call.WhenDeadlineHandledAsync().ConfigureAwait(false);
    }

    private async Task RunHandlerAsync(ServerCall call)
    {
        var context = call.Context;
        var reader = new PipeMessageReader<TRequest>(call.HttpContext.Request.BodyReader, _options.MaxReceiveMessageSize, _method.RequestMarshaller.ContextualDeserializer);
        switch (_handler)
        {
            case UnaryServerMethod<TRequest, TResponse> unary:
            {
                var request = await ReadSingleRequestAsync(reader, call).ConfigureAwait(false);
                var response = await unary(request, context).ConfigureAwait(false);
                await WriteSingleResponseAsync(call, response).ConfigureAwait(false);
                break;
            }

            case ClientStreamingServerMethod<TRequest, TResponse> clientStreaming:
            {
                var response = await clientStreaming(new RequestStream(reader, call), context).ConfigureAwait(false);
                await WriteSingleResponseAsync(call, response).ConfigureAwait(false);
                break;
            }

            case ServerStreamingServerMethod<TRequest, TResponse> serverStreaming:
            {
                var request = await ReadSingleRequestAsync(reader, call).ConfigureAwait(false);
                await serverStreaming(request, new ResponseStream(call, _method.ResponseMarshaller), context).ConfigureAwait(false);
                break;
            }

            case DuplexStreamingServerMethod<TRequest, TResponse> duplex:
                await duplex(new RequestStream(reader, call), new ResponseStream(call, _method.ResponseMarshaller), context).ConfigureAwait(false);
                break;

            default:
                throw new InvalidOperationException($"No handler shape matches {_method.FullName}.");
        }
    }

    private static async Task<TRequest> ReadSingleRequestAsync(PipeMessageReader<TRequest> reader, ServerCall call)
    {
        if (!await reader.ReadNextAsync(call.CallToken).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.Internal, "The request stream ended without the one request message this method expects."));
        }

        var request = reader.Current;
        if (await reader.ReadNextAsync(call.CallToken).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.Internal, "The request stream carried more than the one request message this method expects."));
        }

        return request;
    }

    private async Task WriteSingleResponseAsync(ServerCall call, TResponse response)
    {
        if (response is null)
        {
            throw new InvalidOperationException($"The handler of {_method.FullName} returned a null response message.");
        }

        await call.Writer.WriteAsync(response, _method.ResponseMarshaller.ContextualSerializer, call.CallToken).ConfigureAwait(false);
    }

    private sealed class RequestStream : IAsyncStreamReader<TRequest>
    {
        private readonly PipeMessageReader<TRequest> _reader;
        private readonly ServerCall _call;

        public RequestStream(PipeMessageReader<TRequest> reader, ServerCall call)
        {
            _reader = reader;
            _call = call;
        }

        public TRequest Current => _reader.Current;

        public Task<bool> MoveNext(CancellationToken cancellationToken = default)
        {
            if (!cancellationToken.CanBeCanceled || cancellationToken == _call.CallToken)
            {
                return _reader.ReadNextAsTask(_call.CallToken);
            }

            return MoveNextLinkedAsync(cancellationToken);
        }

        private async Task<bool> MoveNextLinkedAsync(CancellationToken cancellationToken)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _call.CallToken);
            return await _reader.ReadNextAsync(linked.Token).ConfigureAwait(false);
        }
    }

    private sealed class ResponseStream : IServerStreamWriter<TResponse>
    {
        private readonly ServerCall _call;
        private readonly Marshaller<TResponse> _marshaller;

        public ResponseStream(ServerCall call, Marshaller<TResponse> marshaller)
        {
            _call = call;
            _marshaller = marshaller;
        }

        public Task WriteAsync(TResponse message, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(message);
            var pending = _call.Writer.WriteAsync(message, _marshaller.ContextualSerializer, cancellationToken);
            return pending.IsCompletedSuccessfully ? Task.CompletedTask : pending.AsTask();
        }
    }
}
