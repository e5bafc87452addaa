using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using ExposureIndex.Contracts.Json;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Crawler.Publishing;

/// <summary>
/// Writes one Shodan-format banner per line (NDJSON) via <see cref="BannerJson"/>. A file is fsync'd on flush and
/// on completion, so "acknowledged" means on disk; <c>-</c> writes to standard output, which can only be flushed.
/// </summary>
public sealed class NdjsonFileSink : IRecordSink
{
    /// <summary>Bytes gathered before a write to the stream.</summary>
    private const int ChunkBytes = 64 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // The output is a data file, not HTML: keep '<', '&' and non-ASCII banners readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    private readonly Stream _stream;
    private readonly FileStream? _file;
    private readonly bool _ownsStream;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ArrayBufferWriter<byte> _buffer = new(ChunkBytes * 2);
    private readonly Utf8JsonWriter _json;
    private long _written;
    private long _durable;
    private bool _completed;
    private bool _disposed;

    internal NdjsonFileSink(Stream stream, string name, bool ownsStream)
    {
        _stream = stream;
        _file = stream as FileStream;
        _ownsStream = ownsStream;
        _json = new Utf8JsonWriter(_buffer, WriterOptions);
        Name = name;
    }

    public string Name { get; }

    public SinkCounts Counts => new(Interlocked.Read(ref _written), Interlocked.Read(ref _durable), 0);

    /// <summary>Opens <paramref name="path"/> (created or truncated, or appended to), or standard output for <c>-</c>.</summary>
    public static NdjsonFileSink Open(string path, bool append = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (path == "-")
        {
            return new NdjsonFileSink(Console.OpenStandardOutput(), "ndjson:stdout", ownsStream: false);
        }

        if (append)
        {
            TrimTornLine(path);
        }

        var stream = new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read,
            bufferSize: 0, FileOptions.Asynchronous);
        return new NdjsonFileSink(stream, $"ndjson:{Path.GetFullPath(path)}", ownsStream: true);
    }

    /// <summary>
    /// Cuts an unfinished last line off <paramref name="path"/> (a process killed mid-write leaves one), so appended
    /// records start on a line of their own. Safe for a resumed crawl: a record is checkpointed only after its whole
    /// line was written and fsynced, so a torn line belongs to work the resumed run redoes. Returns the bytes cut.
    /// </summary>
    internal static long TrimTornLine(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        var length = file.Length;
        var end = length;
        var chunk = new byte[64 * 1024];
        // Bounded: walks back over the file at most once, a chunk at a time.
        while (end > 0)
        {
            var start = Math.Max(0, end - chunk.Length);
            var count = (int)(end - start);
            file.Position = start;
            file.ReadExactly(chunk, 0, count);
            var newline = chunk.AsSpan(0, count).LastIndexOf((byte)'\n');
            if (newline >= 0)
            {
                end = start + newline + 1;
                break;
            }

            end = start;
        }

        if (end == length)
        {
            return 0;
        }

        file.SetLength(end);
        file.Flush(flushToDisk: true);
        return length - end;
    }

    public async ValueTask WriteAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_completed)
            {
                throw new InvalidOperationException($"{Name} is complete; no more records can be written");
            }

            foreach (var record in records)
            {
                _json.Reset(_buffer);
                BannerJson.Write(_json, record);
                _json.Flush();
                _buffer.Write("\n"u8);
                if (_buffer.WrittenCount >= ChunkBytes)
                {
                    await DrainBufferAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            await DrainBufferAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _written, records.Count);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<SinkCounts> FlushAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await MakeDurableAsync(cancellationToken).ConfigureAwait(false);
            return Counts;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<SinkResult> CompleteAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_completed)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                await MakeDurableAsync(cancellationToken).ConfigureAwait(false);
                _completed = true;
            }

            return SinkResult.Durable(Interlocked.Read(ref _durable));
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await _json.DisposeAsync().ConfigureAwait(false);
            if (_ownsStream)
            {
                await _stream.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask DrainBufferAsync(CancellationToken cancellationToken)
    {
        if (_buffer.WrittenCount == 0)
        {
            return;
        }

        await _stream.WriteAsync(_buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        _buffer.ResetWrittenCount();
    }

    private async ValueTask MakeDurableAsync(CancellationToken cancellationToken)
    {
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        // fsync(2): the records survive a crash once this returns. Standard output cannot be synced.
        _file?.Flush(flushToDisk: true);
        Interlocked.Exchange(ref _durable, Interlocked.Read(ref _written));
    }
}
