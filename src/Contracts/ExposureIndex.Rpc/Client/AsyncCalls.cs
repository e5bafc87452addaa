using System.Runtime.CompilerServices;
using ExposureIndex.Rpc.Core;

namespace ExposureIndex.Rpc.Client;

/// <summary>A running unary call. Await it (or <see cref="ResponseAsync"/>) for the response. Dispose cancels it if unfinished.</summary>
public sealed class AsyncUnaryCall<TResponse> : IDisposable
{
    private readonly IClientCallState _state;

    internal AsyncUnaryCall(Task<TResponse> responseAsync, IClientCallState state)
    {
        ResponseAsync = responseAsync;
        _state = state;
    }

    /// <summary>The response; faults with <see cref="RpcException"/> on a non-OK status.</summary>
    public Task<TResponse> ResponseAsync { get; }

    /// <summary>The response headers' custom metadata.</summary>
    public Task<Metadata> ResponseHeadersAsync => _state.ResponseHeadersAsync;

    /// <summary>Awaits <see cref="ResponseAsync"/>.</summary>
    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();

    /// <summary>The final status; throws <see cref="InvalidOperationException"/> before the call completed.</summary>
    public Status GetStatus() => _state.GetStatus();

    /// <summary>The trailing metadata; throws <see cref="InvalidOperationException"/> before the call completed.</summary>
    public Metadata GetTrailers() => _state.GetTrailers();

    /// <summary>Cancels the call if it has not completed, and releases it.</summary>
    public void Dispose() => _state.Dispose();
}

/// <summary>A running client-streaming call.</summary>
public sealed class AsyncClientStreamingCall<TRequest, TResponse> : IDisposable
{
    private readonly IClientCallState _state;

    internal AsyncClientStreamingCall(IClientStreamWriter<TRequest> requestStream, Task<TResponse> responseAsync, IClientCallState state)
    {
        RequestStream = requestStream;
        ResponseAsync = responseAsync;
        _state = state;
    }

    /// <summary>Where to write requests; <see cref="IClientStreamWriter{T}.CompleteAsync"/> when done.</summary>
    public IClientStreamWriter<TRequest> RequestStream { get; }

    /// <summary>The response; faults with <see cref="RpcException"/> on a non-OK status.</summary>
    public Task<TResponse> ResponseAsync { get; }

    /// <summary>The response headers' custom metadata.</summary>
    public Task<Metadata> ResponseHeadersAsync => _state.ResponseHeadersAsync;

    /// <summary>Awaits <see cref="ResponseAsync"/>.</summary>
    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();

    /// <summary>The final status; throws <see cref="InvalidOperationException"/> before the call completed.</summary>
    public Status GetStatus() => _state.GetStatus();

    /// <summary>The trailing metadata; throws <see cref="InvalidOperationException"/> before the call completed.</summary>
    public Metadata GetTrailers() => _state.GetTrailers();

    /// <summary>Cancels the call if it has not completed, and releases it.</summary>
    public void Dispose() => _state.Dispose();
}

/// <summary>A running server-streaming call.</summary>
public sealed class AsyncServerStreamingCall<TResponse> : IDisposable
{
    private readonly IClientCallState _state;

    internal AsyncServerStreamingCall(IAsyncStreamReader<TResponse> responseStream, IClientCallState state)
    {
        ResponseStream = responseStream;
        _state = state;
    }

    /// <summary>The responses; a non-OK status surfaces as <see cref="RpcException"/> from MoveNext.</summary>
    public IAsyncStreamReader<TResponse> ResponseStream { get; }

    /// <summary>The response headers' custom metadata.</summary>
    public Task<Metadata> ResponseHeadersAsync => _state.ResponseHeadersAsync;

    /// <summary>The final status; throws <see cref="InvalidOperationException"/> before the call completed.</summary>
    public Status GetStatus() => _state.GetStatus();

    /// <summary>The trailing metadata; throws <see cref="InvalidOperationException"/> before the call completed.</summary>
    public Metadata GetTrailers() => _state.GetTrailers();

    /// <summary>Cancels the call if it has not completed, and releases it.</summary>
    public void Dispose() => _state.Dispose();
}

/// <summary>A running bidirectional streaming call.</summary>
public sealed class AsyncDuplexStreamingCall<TRequest, TResponse> : IDisposable
{
    private readonly IClientCallState _state;

    internal AsyncDuplexStreamingCall(IClientStreamWriter<TRequest> requestStream, IAsyncStreamReader<TResponse> responseStream, IClientCallState state)
    {
        RequestStream = requestStream;
        ResponseStream = responseStream;
        _state = state;
    }

    /// <summary>Where to write requests; <see cref="IClientStreamWriter{T}.CompleteAsync"/> when done.</summary>
    public IClientStreamWriter<TRequest> RequestStream { get; }

    /// <summary>The responses; a non-OK status surfaces as <see cref="RpcException"/> from MoveNext.</summary>
    public IAsyncStreamReader<TResponse> ResponseStream { get; }

    /// <summary>The response headers' custom metadata.</summary>
    public Task<Metadata> ResponseHeadersAsync => _state.ResponseHeadersAsync;

    /// <summary>The final status; throws <see cref="InvalidOperationException"/> before the call completed.</summary>
    public Status GetStatus() => _state.GetStatus();

    /// <summary>The trailing metadata; throws <see cref="InvalidOperationException"/> before the call completed.</summary>
    public Metadata GetTrailers() => _state.GetTrailers();

    /// <summary>Cancels the call if it has not completed, and releases it.</summary>
    public void Dispose() => _state.Dispose();
}
