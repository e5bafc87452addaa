using System.Globalization;
using System.Net;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Rpc.Client;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Services;

namespace ExposureIndex.Crawler.Publishing;

/// <summary>Settings of <see cref="IndexerSink"/>.</summary>
/// <param name="Address">The Indexer's gRPC endpoint, e.g. <c>http://127.0.0.1:7101</c> (h2c).</param>
/// <param name="Producer">Sent with every batch, e.g. <c>crawler/host1</c>.</param>
/// <param name="MaxInFlightBatches">Batches sent but not yet acknowledged, at most (the pipelining window).</param>
/// <param name="MaxBatchBytes">A write larger than this is split over several PublishBatch messages.</param>
/// <param name="AckTimeout">Longest wait for room in the window; a silent Indexer fails the sink after it.</param>
public sealed record IndexerSinkOptions(Uri Address, string Producer, int MaxInFlightBatches = 8, int MaxBatchBytes = 4 * 1024 * 1024, TimeSpan? AckTimeout = null)
{
    public TimeSpan EffectiveAckTimeout => AckTimeout ?? TimeSpan.FromSeconds(60);
}

/// <summary>The Indexer refused the stream, ended it early, or broke the Publish protocol.</summary>
public sealed class IndexerSinkException : Exception
{
    public IndexerSinkException()
    {
    }

    public IndexerSinkException(string message)
        : base(message)
    {
    }

    public IndexerSinkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Publishes records to the Indexer over the bidirectional <c>exposure.v1.Ingest/Publish</c> stream.
/// Each write becomes one or more numbered <see cref="PublishBatch"/> messages; up to MaxInFlightBatches are
/// in flight at once (pipelined), and a write waits while the window is full. The Indexer answers each batch
/// with one <see cref="PublishAck"/> once its accepted records are durable. Rejected records are reported
/// with the Indexer's reasons and never resent (resending cannot fix them). <see cref="CompleteAsync"/>
/// half-closes the stream and returns only when every batch is acknowledged and the call ended OK.
/// Transport failures fail the sink; retries and a disk spool wrap this sink later.
/// </summary>
public sealed class IndexerSink : IRecordSink
{
    private readonly IndexerSinkOptions _options;
    private readonly RpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<PublishBatch, PublishAck> _call;
    private readonly CancellationTokenSource _callCts = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly SemaphoreSlim _window;
    private readonly object _sync = new();
    private readonly Dictionary<ulong, PublishBatch> _pending = [];
    private readonly List<RecordRejection> _rejections = [];
    private readonly Task _ackReader;
    private TaskCompletionSource _idle = NewSignal(completed: true);
    private ulong _nextSequence = 1;
    private long _written;
    private long _acknowledged;
    private long _rejected;
    private long _duplicates;
    private Exception? _failure;
    private bool _completed;
    private bool _disposed;

    private IndexerSink(IndexerSinkOptions options, RpcChannel channel)
    {
        _options = options;
        _channel = channel;
        _window = new SemaphoreSlim(options.MaxInFlightBatches, options.MaxInFlightBatches);
        _call = channel.DuplexStreamingCall(IngestRpc.Publish, new CallOptions(CancellationToken: _callCts.Token));
        Name = $"indexer:{options.Address}";
        _ackReader = Task.Run(ReadAcksAsync);
    }

    public string Name { get; }

    public SinkCounts Counts => new(Interlocked.Read(ref _written), Interlocked.Read(ref _acknowledged), Interlocked.Read(ref _rejected));

    /// <summary>Opens the Publish stream to the Indexer (the connection is made on the first batch).</summary>
    public static IndexerSink Open(IndexerSinkOptions options, RpcChannelOptions? channelOptions = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxInFlightBatches, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchBytes, 1024);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Producer);
        var address = options.Address.GetLeftPart(UriPartial.Authority);
        return new IndexerSink(options, RpcChannel.ForAddress(address, channelOptions));
    }

    public async ValueTask WriteAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_completed)
            {
                throw new InvalidOperationException($"{Name} is complete; no more records can be written");
            }

            var batch = NewBatch();
            var bytes = 0;
            foreach (var record in records)
            {
                var size = record.CalculateSize();
                if (batch.Records.Count > 0 && bytes + size > _options.MaxBatchBytes)
                {
                    await SendAsync(batch, cancellationToken).ConfigureAwait(false);
                    batch = NewBatch();
                    bytes = 0;
                }

                batch.Records.Add(record);
                bytes += size;
            }

            if (batch.Records.Count > 0)
            {
                await SendAsync(batch, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async ValueTask<SinkCounts> FlushAsync(CancellationToken cancellationToken = default)
    {
        Task idle;
        lock (_sync)
        {
            ThrowIfFailed();
            idle = _idle.Task;
        }

        await idle.WaitAsync(cancellationToken).ConfigureAwait(false);
        return Counts;
    }

    public async ValueTask<SinkResult> CompleteAsync(CancellationToken cancellationToken = default)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_completed)
            {
                lock (_sync)
                {
                    ThrowIfFailed();
                }

                // Half-close: the Indexer acks what it has, then ends the call with its status.
                try
                {
                    await _call.RequestStream.CompleteAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is RpcException or InvalidOperationException or IOException)
                {
                    Fail(new IndexerSinkException($"{Name} failed while closing the Publish stream: {e.Message}", e));
                }

                _completed = true;
            }

            await _ackReader.WaitAsync(cancellationToken).ConfigureAwait(false);
            lock (_sync)
            {
                ThrowIfFailed();
                if (_pending.Count > 0)
                {
                    throw new IndexerSinkException($"{Name} ended the Publish stream with {_pending.Count} batches unacknowledged (first: {_pending.Keys.Min()})");
                }

                return new SinkResult(Counts, [.. _rejections], Interlocked.Read(ref _duplicates));
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _callCts.CancelAsync().ConfigureAwait(false);
        _call.Dispose();
        try
        {
            await _ackReader.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The reader ends once the call is gone; nothing more to wait for.
        }

        _channel.Dispose();
        _callCts.Dispose();
    }

    private PublishBatch NewBatch() => new() { Producer = _options.Producer };

    private async Task SendAsync(PublishBatch batch, CancellationToken cancellationToken)
    {
        bool entered;
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _callCts.Token))
        {
            try
            {
                entered = await _window.WaitAsync(_options.EffectiveAckTimeout, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The call was torn down because the stream failed: report why.
                lock (_sync)
                {
                    ThrowIfFailed();
                }

                throw;
            }
        }

        if (!entered)
        {
            ulong oldest;
            lock (_sync)
            {
                ThrowIfFailed();
                oldest = _pending.Count > 0 ? _pending.Keys.Min() : 0;
            }

            throw new IndexerSinkException(string.Create(CultureInfo.InvariantCulture,
                $"{Name} acknowledged nothing for {_options.EffectiveAckTimeout.TotalSeconds:0.###} s (oldest unacknowledged batch {oldest}, window {_options.MaxInFlightBatches})"));
        }

        lock (_sync)
        {
            if (_failure is not null)
            {
                _window.Release();
                ThrowIfFailed();
            }

            batch.Sequence = _nextSequence++;
            if (_pending.Count == 0)
            {
                _idle = NewSignal(completed: false);
            }

            _pending.Add(batch.Sequence, batch);
        }

        try
        {
            await _call.RequestStream.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var detail = e is RpcException rpc ? $"{rpc.Status.StatusCode}: {rpc.Status.Detail}" : e.Message;
            Fail(new IndexerSinkException($"{Name} failed while sending batch {batch.Sequence}: {detail}", e));
            lock (_sync)
            {
                ThrowIfFailed();
            }
        }

        Interlocked.Add(ref _written, batch.Records.Count);
    }

    private async Task ReadAcksAsync()
    {
        try
        {
            // Bounded: ends when the Indexer ends the call, or when the call is cancelled.
            while (await _call.ResponseStream.MoveNext(_callCts.Token).ConfigureAwait(false))
            {
                OnAck(_call.ResponseStream.Current);
            }

            lock (_sync)
            {
                if (_pending.Count > 0)
                {
                    Fail(new IndexerSinkException($"{Name} ended the Publish stream with {_pending.Count} batches unacknowledged (first: {_pending.Keys.Min()})"));
                }
            }
        }
        catch (RpcException e) when (!_callCts.IsCancellationRequested)
        {
            Fail(new IndexerSinkException($"{Name} ended the Publish stream with {e.Status.StatusCode}: {e.Status.Detail}", e));
        }
        catch (Exception e) when (_callCts.IsCancellationRequested && e is RpcException or OperationCanceledException)
        {
            // Either a failure already tore the call down (Fail keeps the first reason) or the sink was disposed.
            Fail(new ObjectDisposedException(Name, "the sink was disposed before it completed"));
        }
        catch (IndexerSinkException e)
        {
            Fail(e);
        }
        catch (Exception e)
        {
            // Background task: anything else must still fail the sink rather than vanish.
            Fail(new IndexerSinkException($"{Name} failed while reading acknowledgements: {e.Message}", e));
        }
    }

    private void OnAck(PublishAck ack)
    {
        lock (_sync)
        {
            if (!_pending.Remove(ack.Sequence, out var batch))
            {
                throw new IndexerSinkException($"{Name} acknowledged batch {ack.Sequence}, which is not in flight");
            }

            if ((long)ack.Accepted + ack.Rejected != batch.Records.Count)
            {
                throw new IndexerSinkException(string.Create(CultureInfo.InvariantCulture,
                    $"{Name} acknowledged batch {ack.Sequence} with {ack.Accepted} accepted + {ack.Rejected} rejected, but it held {batch.Records.Count} records"));
            }

            Interlocked.Add(ref _acknowledged, ack.Accepted);
            Interlocked.Add(ref _rejected, ack.Rejected);
            Interlocked.Add(ref _duplicates, ack.Duplicates);
            foreach (var rejection in ack.Rejections)
            {
                if (_rejections.Count >= SinkResult.MaxListedRejections)
                {
                    break;
                }

                var key = rejection.Index < batch.Records.Count ? KeyOf(batch.Records[(int)rejection.Index]) : $"#{rejection.Index}";
                _rejections.Add(new RecordRejection(key, ack.Sequence, rejection.Index, rejection.Code, rejection.Field, rejection.Reason));
            }

            if (_pending.Count == 0)
            {
                _idle.TrySetResult();
            }
        }

        _window.Release();
    }

    private void Fail(Exception failure)
    {
        lock (_sync)
        {
            _failure ??= failure;
            _idle.TrySetException(_failure);
        }

        // Tear the call down so writers waiting for the window or for flow control wake up now.
        try
        {
            _callCts.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            throw _failure is IndexerSinkException or ObjectDisposedException
                ? new IndexerSinkException(_failure.Message, _failure)
                : _failure;
        }
    }

    private static string KeyOf(ServiceRecord record)
        => IPAddress.TryParse(record.Ip, out var ip) && record.Port is > 0 and <= 65535
            ? new ServiceKey(ip, (int)record.Port, record.Transport).ToString()
            : $"{record.Ip}:{record.Port}/{TransportNames.ToText(record.Transport)}";

    private static TaskCompletionSource NewSignal(bool completed)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // A failure may fault the signal while nobody flushes; observe it so it is not reported as unobserved.
        _ = signal.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        if (completed)
        {
            signal.TrySetResult();
        }

        return signal;
    }
}
