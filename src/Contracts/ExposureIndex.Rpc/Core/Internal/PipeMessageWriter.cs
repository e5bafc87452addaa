using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;

namespace ExposureIndex.Rpc.Core.Internal;

/// <summary>
/// Writes Length-Prefixed-Messages into a <see cref="PipeWriter"/> and decides when to flush.
/// Per-message flushes cost 20-30x in throughput, so messages are batched: the pipe is flushed when
/// <see cref="FlushThreshold"/> bytes are pending (which also applies backpressure), and otherwise by an
/// "idle flush" queued to the writer thread's local thread-pool queue. That item runs as soon as the
/// writing code yields its thread (awaits a read, a timer, I/O, or returns), so a peer waiting for a
/// reply is never starved while a tight write loop still coalesces into large DATA frames.
/// All pipe access is serialized by one async lock, shared by writes, idle flushes and closing.
/// </summary>
internal sealed class PipeMessageWriter : IThreadPoolWorkItem, IDisposable
{
    /// <summary>Pending bytes that force a flush.</summary>
    public const int FlushThreshold = 64 * 1024;

    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly PipeWriter _pipe;
    private readonly FrameContext _context;
    private readonly CancellationToken _flushToken;
    private long _unflushed;
    private int _idleFlushScheduled;
    private bool _closed;
    private Exception? _fault;

    /// <param name="pipe">The transport's writer.</param>
    /// <param name="maxSendMessageSize">Largest payload we agree to send.</param>
    /// <param name="flushToken">The call's token: a flush stalled by flow control ends with the call.</param>
    public PipeMessageWriter(PipeWriter pipe, int maxSendMessageSize, CancellationToken flushToken)
    {
        _pipe = pipe;
        _flushToken = flushToken;
        _context = new FrameContext(pipe, maxSendMessageSize);
    }

    /// <summary>True once at least one message went into the pipe.</summary>
    public bool HasWrittenMessages { get; private set; }

    /// <summary>True when a serializer failed half-way through a frame: the stream cannot be continued.</summary>
    public bool IsCorrupted { get; private set; }

    /// <summary>Frames and queues one message, flushing if the threshold is reached.</summary>
    public async ValueTask WriteAsync<T>(T message, Action<T, SerializationContext> serializer, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        var scheduleIdleFlush = false;
        try
        {
            if (_fault is not null)
            {
                throw _fault is OperationCanceledException
                    ? new OperationCanceledException("The call ended while writing.", _fault, _flushToken)
                    : new IOException("An earlier flush of this stream failed.", _fault);
            }

            if (_closed)
            {
                throw new InvalidOperationException("The stream is already complete; no more messages can be written.");
            }

            int framed;
            _context.Begin();
            try
            {
                serializer(message, _context);
                framed = _context.End();
            }
            catch when (_context.HeaderWritten)
            {
                // Part of a frame is in the pipe; anything sent after it would be misparsed.
                IsCorrupted = true;
                _closed = true;
                throw;
            }

            HasWrittenMessages = true;
            _unflushed += framed;
            if (_unflushed >= FlushThreshold)
            {
                _unflushed = 0;
                await FlushCoreAsync().ConfigureAwait(false);
            }
            else
            {
                scheduleIdleFlush = true;
            }
        }
        finally
        {
            _lock.Release();
        }

        // Only after the release: an idle flush that finds the lock taken relies on the holder to flush
        // or to schedule again, which a writer still holding the lock here could no longer do.
        if (scheduleIdleFlush)
        {
            ScheduleIdleFlush();
        }
    }

    /// <summary>
    /// Marks the stream complete so that no more messages are accepted. Returns false if it already was.
    /// With <paramref name="flush"/>, pending bytes are flushed first.
    /// </summary>
    public async Task<bool> TryCloseAsync(bool flush)
    {
        await _lock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_closed)
            {
                return false;
            }

            _closed = true;
            if (flush && _unflushed > 0 && _fault is null)
            {
                _unflushed = 0;
                await FlushCoreAsync().ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Runs <paramref name="action"/> with exclusive access while the stream is open.</summary>
    public async Task<bool> RunIfOpenAsync(Func<Task> action)
    {
        await _lock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_closed)
            {
                return false;
            }

            await action().ConfigureAwait(false);
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        Volatile.Write(ref _idleFlushScheduled, 0);
        _ = IdleFlushAsync();
    }

    public void Dispose()
    {
        _context.Dispose();
    }

    private void ScheduleIdleFlush()
    {
        if (Interlocked.Exchange(ref _idleFlushScheduled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
        }
    }

    private async Task IdleFlushAsync()
    {
        // If the lock is taken, its holder acquired it after the write that scheduled us was released,
        // and it ends by flushing everything (threshold flush, close, headers, another idle flush) or,
        // being a writer, by scheduling again (the flag is clear now). So skipping never strands a message.
        if (!_lock.Wait(0))
        {
            return;
        }

        try
        {
            if (_closed || _unflushed == 0 || _fault is not null)
            {
                return;
            }

            _unflushed = 0;
            await FlushCoreAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A background flush has no caller; its failure is reported by the next write.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _fault ??= ex;
        }
        finally
        {
            _lock.Release();
        }
    }

    private async ValueTask FlushCoreAsync()
    {
        var result = await _pipe.FlushAsync(_flushToken).ConfigureAwait(false);
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("The flush was cancelled.", _flushToken);
        }

        if (result.IsCompleted)
        {
            _closed = true;
            throw new OperationCanceledException("The peer is no longer reading this stream.");
        }
    }

    /// <summary>Frames one message: prefix first when the length is announced, else via a pooled buffer.</summary>
    private sealed class FrameContext : SerializationContext, IBufferWriter<byte>, IDisposable
    {
        private readonly PipeWriter _pipe;
        private readonly int _maxSize;
        private PooledBufferWriter? _buffer;
        private int _declared;
        private long _written;
        private bool _usedBuffer;
        private bool _completed;

        public FrameContext(PipeWriter pipe, int maxSize)
        {
            _pipe = pipe;
            _maxSize = maxSize;
        }

        public bool HeaderWritten => _declared >= 0;

        public void Begin()
        {
            _declared = -1;
            _written = 0;
            _usedBuffer = false;
            _completed = false;
        }

        /// <summary>Returns the framed size (prefix + payload).</summary>
        public int End()
        {
            if (!_completed)
            {
                _buffer?.Reset();
                throw new InvalidOperationException("The message serializer returned without calling SerializationContext.Complete().");
            }

            return MessageFraming.HeaderSize + (int)_written;
        }

        public override void SetPayloadLength(int payloadLength)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
            if (_declared >= 0 || _usedBuffer)
            {
                throw new InvalidOperationException("SetPayloadLength must be called once, before writing the payload.");
            }

            CheckSize(payloadLength);
            MessageFraming.WriteHeader(_pipe.GetSpan(MessageFraming.HeaderSize), payloadLength);
            _pipe.Advance(MessageFraming.HeaderSize);
            _declared = payloadLength;
        }

        public override IBufferWriter<byte> GetBufferWriter()
        {
            if (_declared >= 0)
            {
                return this;
            }

            _usedBuffer = true;
            return _buffer ??= new PooledBufferWriter();
        }

        public override void Complete()
        {
            if (_completed)
            {
                throw new InvalidOperationException("SerializationContext.Complete() was called twice.");
            }

            if (_declared >= 0)
            {
                if (_written != _declared)
                {
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The serializer announced {_declared} payload bytes but wrote {_written}."));
                }
            }
            else if (_usedBuffer && _buffer is not null)
            {
                var length = _buffer.Count;
                try
                {
                    CheckSize(length);
                    WriteFramed(_buffer.WrittenSpan);
                }
                finally
                {
                    _buffer.Reset();
                }
            }
            else
            {
                WriteFramed([]);
            }

            _completed = true;
        }

        public override void Complete(byte[] payload)
        {
            ArgumentNullException.ThrowIfNull(payload);
            if (_declared >= 0 || _usedBuffer)
            {
                base.Complete(payload);
                return;
            }

            CheckSize(payload.Length);
            WriteFramed(payload);
            _completed = true;
        }

        public void Advance(int count)
        {
            _written += count;
            _pipe.Advance(count);
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => _pipe.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => _pipe.GetSpan(sizeHint);

        public void Dispose() => _buffer?.Dispose();

        private void WriteFramed(ReadOnlySpan<byte> payload)
        {
            MessageFraming.WriteHeader(_pipe.GetSpan(MessageFraming.HeaderSize), payload.Length);
            _pipe.Advance(MessageFraming.HeaderSize);
            if (!payload.IsEmpty)
            {
                _pipe.Write(payload);
            }

            _written = payload.Length;
        }

        private void CheckSize(int length)
        {
            if (length > _maxSize)
            {
                throw new RpcException(new Status(
                    StatusCode.ResourceExhausted,
                    string.Create(CultureInfo.InvariantCulture, $"Sending message of {length} bytes exceeds the limit of {_maxSize} bytes.")));
            }
        }
    }
}
