using System.Buffers.Binary;
using System.Globalization;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Checkpointing;
using Google.Protobuf;

namespace ExposureIndex.Crawler.Publishing;

/// <summary>The spool on disk is damaged somewhere other than its unfinished tail; the message names file and offset.</summary>
public sealed class SpoolCorruptException : Exception
{
    public SpoolCorruptException()
    {
    }

    public SpoolCorruptException(string message)
        : base(message)
    {
    }

    public SpoolCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Where a spooled batch ends: the next frame starts here.</summary>
internal readonly record struct SpoolPosition(long Segment, long Offset) : IComparable<SpoolPosition>
{
    public int CompareTo(SpoolPosition other)
    {
        var segment = Segment.CompareTo(other.Segment);
        return segment != 0 ? segment : Offset.CompareTo(other.Offset);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"segment {Segment} offset {Offset}");
}

/// <summary>One batch read back from the spool, with the position just after it (what to acknowledge).</summary>
internal sealed record SpooledBatch(ulong Sequence, IReadOnlyList<ServiceRecord> Records, SpoolPosition End);

/// <summary>
/// An append-only, crash-safe queue of record batches on disk, where batches wait while the Indexer is
/// unreachable. Layout: <c>segment-NNNNNNNNNN.spool</c> files of frames, plus <c>spool.cursor</c> naming the
/// first unacknowledged frame. A frame is a 16-byte little-endian header - magic "EXSP", payload length, record
/// count, CRC-32C over (length, count, payload) - then a protobuf <see cref="PublishBatch"/> whose sequence is
/// the spool's own. <see cref="Append"/> fsyncs before it returns: only then does the batch count as written.
/// </summary>
/// <remarks>
/// Recovery: the frames after the cursor are validated on open. A bad or short frame at the end of the last
/// segment is an append that never finished its fsync (so it was never reported written) and is cut off; a bad
/// frame anywhere else is corruption and is reported, never skipped. Fully acknowledged segments are deleted.
/// One writer and one reader at a time (the <see cref="ResilientSink"/> guarantees both).
/// </remarks>
internal sealed class DiskSpool : IDisposable
{
    public const uint Magic = 0x50535845; // "EXSP" little-endian
    public const int HeaderBytes = 16;
    public const int MaxFrameBytes = 64 * 1024 * 1024;
    private const string CursorFile = "spool.cursor";
    private const string LockFile = "spool.lock";
    private const string SegmentPrefix = "segment-";
    private const string SegmentSuffix = ".spool";

    private readonly Lock _sync = new();
    private readonly long _maxSegmentBytes;
    private readonly SortedDictionary<long, long> _segments = []; // id -> committed length
    private readonly Queue<(SpoolPosition End, int Records, long Bytes)> _pendingFrames = new();
    private FileStream? _writer;
    private FileStream? _lock;
    private long _writerSegment;
    private SpoolPosition _cursor;
    private ulong _nextSequence;
    private long _pendingRecords;
    private long _pendingBytes;
    private bool _disposed;

    private DiskSpool(string directory, long maxSegmentBytes)
    {
        Directory = directory;
        _maxSegmentBytes = maxSegmentBytes;
    }

    public string Directory { get; }

    /// <summary>Bytes cut off an unfinished tail on open (0 after a clean shutdown).</summary>
    public long TruncatedBytes { get; private set; }

    public bool HasPending
    {
        get
        {
            lock (_sync)
            {
                return _pendingFrames.Count > 0;
            }
        }
    }

    public int PendingBatches
    {
        get
        {
            lock (_sync)
            {
                return _pendingFrames.Count;
            }
        }
    }

    public long PendingRecords => Interlocked.Read(ref _pendingRecords);

    public long PendingBytes => Interlocked.Read(ref _pendingBytes);

    /// <summary>Opens (creating if needed) the spool in <paramref name="directory"/> and recovers what a previous run left.</summary>
    public static DiskSpool Open(string directory, long maxSegmentBytes = 64L * 1024 * 1024)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSegmentBytes, HeaderBytes + 1);
        var full = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(full);
        var spool = new DiskSpool(full, maxSegmentBytes);
        try
        {
            // One process per spool: a second one would interleave appends and race on the cursor.
            spool._lock = new FileStream(Path.Combine(full, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"spool {full} is in use by another process ({e.Message}); give each crawler its own spool directory", e);
        }

        try
        {
            spool.Recover();
        }
        catch
        {
            spool.Dispose();
            throw;
        }

        return spool;
    }

    /// <summary>Appends one batch and fsyncs it; returns where it ends.</summary>
    public SpoolPosition Append(IReadOnlyList<ServiceRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var batch = new PublishBatch { Sequence = _nextSequence };
            batch.Records.AddRange(records);
            var payload = batch.ToByteArray();
            if (payload.Length > MaxFrameBytes)
            {
                throw new ArgumentException($"a batch of {payload.Length} bytes exceeds the spool's frame limit of {MaxFrameBytes}", nameof(records));
            }

            var frame = new byte[HeaderBytes + payload.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(frame, Magic);
            BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(4), payload.Length);
            BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(8), records.Count);
            payload.CopyTo(frame.AsSpan(HeaderBytes));
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(12), FrameCrc(frame.AsSpan(4, 8), payload));

            var writer = WriterFor(frame.Length);
            var start = writer.Position;
            try
            {
                writer.Write(frame);
                writer.Flush(flushToDisk: true);
            }
            catch
            {
                // Leave no half frame behind for this process to append after; recovery would cut it anyway.
                TryTruncate(writer, start);
                throw;
            }

            var end = new SpoolPosition(_writerSegment, writer.Position);
            _segments[_writerSegment] = writer.Position;
            _pendingFrames.Enqueue((end, records.Count, frame.Length));
            _nextSequence++;
            Interlocked.Add(ref _pendingRecords, records.Count);
            Interlocked.Add(ref _pendingBytes, frame.Length);
            return end;
        }
    }

    /// <summary>Reads up to <paramref name="maxBatches"/> unacknowledged batches (about <paramref name="maxBytes"/>), oldest first.</summary>
    public List<SpooledBatch> ReadPending(int maxBatches, long maxBytes = 16L * 1024 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatches, 1);
        SpoolPosition cursor;
        List<(long Id, long Length)> segments;
        int available;
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            cursor = _cursor;
            available = _pendingFrames.Count;
            segments = [.. _segments.Where(s => s.Key >= cursor.Segment).Select(s => (s.Key, s.Value))];
        }

        var batches = new List<SpooledBatch>();
        long bytes = 0;
        foreach (var (id, length) in segments)
        {
            var offset = id == cursor.Segment ? cursor.Offset : 0;
            if (offset >= length)
            {
                continue;
            }

            using var stream = OpenRead(id);
            stream.Position = offset;
            // Bounded: every frame read advances through a segment of known committed length.
            while (offset < length && batches.Count < Math.Min(maxBatches, available) && (batches.Count == 0 || bytes < maxBytes))
            {
                var (batch, frameBytes) = ReadFrame(stream, id, offset, length) ?? throw new SpoolCorruptException(
                    $"spool segment {SegmentPath(id)} is corrupt at offset {offset}: a frame that was written and fsynced no longer reads back");
                offset += frameBytes;
                bytes += frameBytes;
                batches.Add(new SpooledBatch(batch.Sequence, batch.Records, new SpoolPosition(id, offset)));
            }

            if (batches.Count >= Math.Min(maxBatches, available) || bytes >= maxBytes)
            {
                break;
            }
        }

        return batches;
    }

    /// <summary>Marks every batch up to <paramref name="end"/> acknowledged: persists the cursor and drops finished segments.</summary>
    public void Acknowledge(SpoolPosition end)
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (end.CompareTo(_cursor) <= 0)
            {
                return;
            }

            var found = false;
            // Bounded: at most the pending frames are dequeued.
            while (_pendingFrames.Count > 0 && _pendingFrames.Peek().End.CompareTo(end) <= 0)
            {
                var (frameEnd, records, bytes) = _pendingFrames.Dequeue();
                Interlocked.Add(ref _pendingRecords, -records);
                Interlocked.Add(ref _pendingBytes, -bytes);
                found |= frameEnd == end;
            }

            if (!found)
            {
                throw new ArgumentException($"{end} is not the end of a pending spool frame", nameof(end));
            }

            _cursor = end;
            WriteCursor();
            DropFinishedSegments();
        }
    }

    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _writer?.Dispose();
            _writer = null;
            _lock?.Dispose();
            _lock = null;
        }
    }

    internal string SegmentPath(long id) => Path.Combine(Directory, string.Create(CultureInfo.InvariantCulture, $"{SegmentPrefix}{id:D10}{SegmentSuffix}"));

    private FileStream WriterFor(int frameBytes)
    {
        if (_writer is not null && _writer.Position > 0 && _writer.Position + frameBytes > _maxSegmentBytes)
        {
            _writer.Dispose();
            _writer = null;
            _writerSegment++;
        }

        if (_writer is null)
        {
            var path = SegmentPath(_writerSegment);
            var existed = File.Exists(path);
            _writer = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.None);
            _writer.Position = _writer.Length;
            if (!existed)
            {
                _segments[_writerSegment] = 0;
                // The new directory entry must survive a crash too, or fsynced frames in it could vanish.
                DurableFile.SyncDirectory(Directory);
            }
        }

        return _writer;
    }

    private void Recover()
    {
        var ids = new List<long>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, $"{SegmentPrefix}*{SegmentSuffix}"))
        {
            var name = Path.GetFileName(file);
            var digits = name[SegmentPrefix.Length..^SegmentSuffix.Length];
            if (long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                ids.Add(id);
            }
        }

        ids.Sort();
        _cursor = ReadCursor(ids.Count > 0 ? ids[0] : 0);
        foreach (var id in ids.Where(id => id < _cursor.Segment))
        {
            // Acknowledged before a crash that came between the cursor write and the delete.
            File.Delete(SegmentPath(id));
        }

        ids.RemoveAll(id => id < _cursor.Segment);
        ulong lastSequence = 0;
        var anySequence = false;
        for (var i = 0; i < ids.Count; i++)
        {
            var id = ids[i];
            var last = i == ids.Count - 1;
            using var stream = new FileStream(SegmentPath(id), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            var length = stream.Length;
            long offset = id == _cursor.Segment ? Math.Min(_cursor.Offset, length) : 0;
            if (id == _cursor.Segment && _cursor.Offset > length)
            {
                throw new SpoolCorruptException($"spool cursor points to offset {_cursor.Offset} of {SegmentPath(id)}, which holds only {length} bytes");
            }

            stream.Position = offset;
            // Bounded: each frame advances the offset through a file of fixed length.
            while (offset < length)
            {
                var frame = ReadFrame(stream, id, offset, length);
                if (frame is null)
                {
                    if (!last)
                    {
                        throw new SpoolCorruptException($"spool segment {SegmentPath(id)} is corrupt at offset {offset} (bad frame header or CRC-32C) and is not the last segment");
                    }

                    TruncatedBytes = length - offset;
                    stream.SetLength(offset);
                    stream.Flush(flushToDisk: true);
                    length = offset;
                    break;
                }

                var (batch, frameBytes) = frame.Value;
                offset += frameBytes;
                _pendingFrames.Enqueue((new SpoolPosition(id, offset), batch.Records.Count, frameBytes));
                _pendingRecords += batch.Records.Count;
                _pendingBytes += frameBytes;
                lastSequence = batch.Sequence;
                anySequence = true;
            }

            _segments[id] = length;
        }

        _writerSegment = ids.Count > 0 ? ids[^1] : _cursor.Segment;
        _nextSequence = anySequence ? lastSequence + 1 : 0;
        if (_pendingFrames.Count == 0)
        {
            // Nothing pending: start the next appends on a fresh segment so the old ones can go.
            DropFinishedSegments();
        }
    }

    private (PublishBatch Batch, int FrameBytes)? ReadFrame(FileStream stream, long id, long offset, long length)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (length - offset < HeaderBytes || stream.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false) < HeaderBytes)
        {
            return null;
        }

        var payloadLength = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        var records = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic || payloadLength < 0 || payloadLength > MaxFrameBytes
            || records < 0 || length - offset - HeaderBytes < payloadLength)
        {
            return null;
        }

        var payload = new byte[payloadLength];
        if (stream.ReadAtLeast(payload, payloadLength, throwOnEndOfStream: false) < payloadLength
            || FrameCrc(header[4..12], payload) != BinaryPrimitives.ReadUInt32LittleEndian(header[12..]))
        {
            return null;
        }

        PublishBatch batch;
        try
        {
            batch = PublishBatch.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new SpoolCorruptException($"spool segment {SegmentPath(id)} at offset {offset}: the CRC matches but the batch does not parse: {e.Message}", e);
        }

        if (batch.Records.Count != records)
        {
            throw new SpoolCorruptException($"spool segment {SegmentPath(id)} at offset {offset}: header says {records} records, the batch holds {batch.Records.Count}");
        }

        return (batch, HeaderBytes + payloadLength);
    }

    private static uint FrameCrc(ReadOnlySpan<byte> lengthAndCount, ReadOnlySpan<byte> payload)
        => Crc32C.Append(Crc32C.Compute(lengthAndCount), payload);

    private FileStream OpenRead(long id) => new(SegmentPath(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);

    private SpoolPosition ReadCursor(long fallbackSegment)
    {
        var path = Path.Combine(Directory, CursorFile);
        if (!File.Exists(path))
        {
            return new SpoolPosition(fallbackSegment, 0);
        }

        var bytes = File.ReadAllBytes(path);
        // 8-byte segment, 8-byte offset, CRC-32C of both.
        if (bytes.Length != 20 || Crc32C.Compute(bytes.AsSpan(0, 16)) != BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(16)))
        {
            throw new SpoolCorruptException($"spool cursor {path} is corrupt ({bytes.Length} bytes, CRC-32C mismatch or wrong size)");
        }

        return new SpoolPosition(BinaryPrimitives.ReadInt64LittleEndian(bytes), BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8)));
    }

    private void WriteCursor()
    {
        var bytes = new byte[20];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, _cursor.Segment);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), _cursor.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), Crc32C.Compute(bytes.AsSpan(0, 16)));
        DurableFile.WriteAtomically(Path.Combine(Directory, CursorFile), bytes);
    }

    private void DropFinishedSegments()
    {
        // Once everything is acknowledged, roll the writer over so the last segment can go too.
        if (_pendingFrames.Count == 0 && _segments.TryGetValue(_writerSegment, out var writerLength) && writerLength > 0)
        {
            _writer?.Dispose();
            _writer = null;
            _writerSegment++;
            _cursor = new SpoolPosition(_writerSegment, 0);
            WriteCursor();
        }

        foreach (var id in _segments.Keys.Where(id => id < _cursor.Segment).ToList())
        {
            File.Delete(SegmentPath(id));
            _segments.Remove(id);
        }
    }

    private static void TryTruncate(FileStream writer, long length)
    {
        try
        {
            writer.SetLength(length);
            writer.Position = length;
        }
        catch (IOException)
        {
            // Recovery cuts an unfinished tail on the next open.
        }
    }
}
