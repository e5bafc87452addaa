using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using ExposureIndex.Contracts;
using Microsoft.Win32.SafeHandles;

namespace ExposureIndex.Storage.Embedded.Log;

/// <summary>
/// The embedded store's durable layer: an append-only log split into segment files.
/// <para>Segment file: 16-byte header ("EXIDXLOG", u32 format version, u32 segment number), then frames.
/// Frame: u32 payload length (little-endian), u32 CRC-32C over the length bytes and the payload, payload.</para>
/// <para>Durability: <see cref="Commit"/> flushes and fsyncs; nothing is acknowledged before it returns.
/// Recovery: a frame that fails its length or CRC check at the tail of the LAST segment is a torn write from a
/// crash and is truncated away; the same failure anywhere else is corruption and stops the open with the
/// segment and offset named.</para>
/// Positions are <c>(segment &lt;&lt; 40) | offset</c>; 0 is never a valid position (offsets start after the header).
/// </summary>
internal sealed class SegmentLog : IDisposable
{
    public const int HeaderSize = 16;
    public const int FrameHeaderSize = 8;
    public const int MaxPayload = 64 * 1024 * 1024;
    private const uint FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "EXIDXLOG"u8;

    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly Dictionary<uint, SafeFileHandle> _readers = new();
    private readonly Lock _readersLock = new();
    private FileStream _writer;
    private uint _segment;
    private long _offset;
    private long _flushedOffset;
    private bool _dirty;

    private SegmentLog(string directory, long segmentBytes, FileStream writer, uint segment, long offset)
    {
        _directory = directory;
        _segmentBytes = segmentBytes;
        _writer = writer;
        _segment = segment;
        _offset = offset;
        _flushedOffset = offset;
    }

    /// <summary>Bytes appended since open plus those found at open; a rough size for stats.</summary>
    public long TotalBytes { get; private set; }

    public int SegmentCount => (int)_segment;

    /// <summary>
    /// Opens (or creates) the log in <paramref name="directory"/> and replays every valid frame in order.
    /// </summary>
    public static SegmentLog Open(string directory, ReplayHandler replay, long segmentBytes = 256L * 1024 * 1024)
    {
        ArgumentNullException.ThrowIfNull(replay);
        Directory.CreateDirectory(directory);
        var segments = Directory.GetFiles(directory, "seg-*.log")
            .Select(path => (Path: path, Number: ParseSegmentNumber(path)))
            .Where(s => s.Number > 0)
            .OrderBy(s => s.Number)
            .ToList();

        for (var i = 0; i < segments.Count; i++)
        {
            if (segments[i].Number != i + 1)
            {
                throw new StoreCorruptException($"store log is missing segment {i + 1} (found {Path.GetFileName(segments[i].Path)} in {directory})");
            }
        }

        long total = 0;
        long validEnd = HeaderSize;
        for (var i = 0; i < segments.Count; i++)
        {
            var last = i == segments.Count - 1;
            validEnd = ReplaySegment(segments[i].Path, (uint)segments[i].Number, last, replay);
            total += validEnd;
        }

        FileStream writer;
        uint current;
        if (segments.Count == 0)
        {
            current = 1;
            writer = CreateSegment(directory, current);
            validEnd = HeaderSize;
        }
        else
        {
            current = (uint)segments[^1].Number;
            writer = new FileStream(segments[^1].Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.None);
            if (writer.Length != validEnd)
            {
                // Torn tail from a crash: cut it so new frames follow the last valid one.
                writer.SetLength(validEnd);
                writer.Flush(flushToDisk: true);
            }

            writer.Position = validEnd;
        }

        return new SegmentLog(directory, segmentBytes, writer, current, validEnd) { TotalBytes = total };
    }

    /// <summary>Called for every valid frame at open: its position and payload (valid only during the call).</summary>
    internal delegate void ReplayHandler(long position, ReadOnlySpan<byte> payload);

    /// <summary>Appends a frame; durable only after <see cref="Commit"/>. Returns its position.</summary>
    public long Append(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaxPayload)
        {
            throw new ArgumentException($"log frame of {payload.Length} bytes exceeds the {MaxPayload}-byte limit", nameof(payload));
        }

        if (_offset > HeaderSize && _offset + FrameHeaderSize + payload.Length > _segmentBytes)
        {
            Roll();
        }

        Span<byte> header = stackalloc byte[FrameHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.Length);
        var crc = Crc32C.Append(Crc32C.Compute(header[..4]), payload);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], crc);
        var position = MakePosition(_segment, _offset);
        _writer.Write(header);
        _writer.Write(payload);
        _offset += FrameHeaderSize + payload.Length;
        TotalBytes += FrameHeaderSize + payload.Length;
        _dirty = true;
        return position;
    }

    /// <summary>Flushes and fsyncs everything appended so far (the durability point of a batch).</summary>
    public void Commit()
    {
        if (!_dirty)
        {
            return;
        }

        _writer.Flush(flushToDisk: true);
        _flushedOffset = _offset;
        _dirty = false;
    }

    /// <summary>Reads and verifies the frame at <paramref name="position"/> (only positions returned by Append after Commit, or replayed).</summary>
    public byte[] Read(long position)
    {
        var (handle, segment, offset) = HandleFor(position);
        Span<byte> header = stackalloc byte[FrameHeaderSize];
        ReadExactly(handle, header, offset, segment, offset, "frame header");
        var payload = GC.AllocateUninitializedArray<byte>(FrameLength(header, segment, offset));
        ReadExactly(handle, payload, offset + FrameHeaderSize, segment, offset, $"payload of {payload.Length} bytes");
        VerifyCrc(header, payload, segment, offset);
        return payload;
    }

    /// <summary>
    /// Like <see cref="Read(long)"/>, into the caller's reusable <paramref name="scratch"/> (grown as needed): for scans
    /// that read many frames and keep none. The span is valid until the next read into the same buffer.
    /// </summary>
    public ReadOnlySpan<byte> Read(long position, ref byte[]? scratch)
    {
        var (handle, segment, offset) = HandleFor(position);
        scratch ??= new byte[4096];
        // One read usually does: header and payload land in the scratch together (most frames are far smaller).
        var read = RandomAccess.Read(handle, scratch, offset);
        if (read < FrameHeaderSize)
        {
            throw new StoreCorruptException($"store log segment {segment} is truncated at offset {offset} (frame header)");
        }

        var length = FrameLength(scratch, segment, offset);
        var frameEnd = FrameHeaderSize + length;
        if (frameEnd > read)
        {
            if (scratch.Length < frameEnd)
            {
                var grown = new byte[Math.Max(frameEnd, scratch.Length * 2)];
                scratch.AsSpan(0, read).CopyTo(grown);
                scratch = grown;
            }

            ReadExactly(handle, scratch.AsSpan(read, frameEnd - read), offset + read, segment, offset, $"payload of {length} bytes");
        }

        var payload = scratch.AsSpan(FrameHeaderSize, length);
        VerifyCrc(scratch.AsSpan(0, FrameHeaderSize), payload, segment, offset);
        return payload;
    }

    private (SafeFileHandle Handle, uint Segment, long Offset) HandleFor(long position)
    {
        var (segment, offset) = SplitPosition(position);
        if (segment == _segment && offset >= _flushedOffset)
        {
            // The writer itself reading a frame of the batch it is building (history of a service seen twice in
            // one group commit): hand the buffered bytes to the OS first. Queries only ask for committed frames.
            _writer.Flush(flushToDisk: false);
            _flushedOffset = _offset;
        }

        return (ReaderFor(segment), segment, offset);
    }

    private static int FrameLength(ReadOnlySpan<byte> header, uint segment, long offset)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length > MaxPayload)
        {
            throw new StoreCorruptException($"store log segment {segment} has an impossible frame length {length} at offset {offset}");
        }

        return (int)length;
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> destination, long at, uint segment, long frameOffset, string what)
    {
        if (RandomAccess.Read(handle, destination, at) != destination.Length)
        {
            throw new StoreCorruptException($"store log segment {segment} is truncated at offset {frameOffset} ({what})");
        }
    }

    private static void VerifyCrc(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, uint segment, long offset)
    {
        var crc = Crc32C.Append(Crc32C.Compute(header[..4]), payload);
        if (crc != BinaryPrimitives.ReadUInt32LittleEndian(header[4..]))
        {
            throw new StoreCorruptException($"store log segment {segment} fails its CRC at offset {offset}");
        }
    }

    public void Dispose()
    {
        Commit();
        _writer.Dispose();
        lock (_readersLock)
        {
            foreach (var handle in _readers.Values)
            {
                handle.Dispose();
            }

            _readers.Clear();
        }
    }

    public static long MakePosition(uint segment, long offset) => ((long)segment << 40) | offset;

    public static (uint Segment, long Offset) SplitPosition(long position) => ((uint)(position >> 40), position & ((1L << 40) - 1));

    private void Roll()
    {
        _writer.Flush(flushToDisk: true);
        _writer.Dispose();
        _segment++;
        _writer = CreateSegment(_directory, _segment);
        _offset = HeaderSize;
        _flushedOffset = HeaderSize;
        _dirty = false;
    }

    private SafeFileHandle ReaderFor(uint segment)
    {
        lock (_readersLock)
        {
            if (!_readers.TryGetValue(segment, out var handle))
            {
                handle = File.OpenHandle(SegmentPath(_directory, segment), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.RandomAccess);
                _readers[segment] = handle;
            }

            return handle;
        }
    }

    private static FileStream CreateSegment(string directory, uint number)
    {
        var stream = new FileStream(SegmentPath(directory, number), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.None);
        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], number);
        stream.Write(header);
        stream.Flush(flushToDisk: true);
        FsyncDirectory(directory);
        return stream;
    }

    private static void FsyncDirectory(string directory)
    {
        // A new file's directory entry must be durable too (POSIX fsync(2) on the file does not cover it).
        try
        {
            using var handle = File.OpenHandle(directory, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.None);
            RandomAccess.FlushToDisk(handle);
        }
        catch (UnauthorizedAccessException)
        {
            // Some filesystems refuse to open directories; the file fsync is the best we can do there.
        }
        catch (IOException)
        {
        }
    }

    private static string SegmentPath(string directory, uint number)
        => Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"seg-{number:D6}.log"));

    private static int ParseSegmentNumber(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        return name.Length == 10 && int.TryParse(name.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
    }

    private static long ReplaySegment(string path, uint number, bool last, ReplayHandler replay)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20, FileOptions.SequentialScan);
        var length = stream.Length;
        Span<byte> header = stackalloc byte[HeaderSize];
        if (stream.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false) != HeaderSize
            || !header[..8].SequenceEqual(Magic))
        {
            if (last && length < HeaderSize)
            {
                // Crash between create and header write: an empty last segment is rewritten.
                stream.Dispose();
                File.Delete(path);
                using var fresh = CreateSegment(Path.GetDirectoryName(path)!, number);
                return HeaderSize;
            }

            throw new StoreCorruptException($"store log segment {Path.GetFileName(path)} has no valid header");
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version != FormatVersion)
        {
            throw new StoreCorruptException($"store log segment {Path.GetFileName(path)} has format version {version}; this build reads version {FormatVersion}");
        }

        var offset = (long)HeaderSize;
        var frameHeader = new byte[FrameHeaderSize];
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            while (offset < length)
            {
                var problem = (string?)null;
                if (length - offset < FrameHeaderSize || stream.ReadAtLeast(frameHeader, FrameHeaderSize, throwOnEndOfStream: false) != FrameHeaderSize)
                {
                    problem = "a truncated frame header";
                }
                else
                {
                    var payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(frameHeader);
                    if (payloadLength > MaxPayload || offset + FrameHeaderSize + payloadLength > length)
                    {
                        problem = $"a frame length of {payloadLength} bytes that runs past the end";
                    }
                    else
                    {
                        if (buffer.Length < payloadLength)
                        {
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = ArrayPool<byte>.Shared.Rent((int)payloadLength);
                        }

                        var payload = buffer.AsSpan(0, (int)payloadLength);
                        stream.ReadExactly(payload);
                        var crc = Crc32C.Append(Crc32C.Compute(frameHeader.AsSpan(0, 4)), payload);
                        if (crc != BinaryPrimitives.ReadUInt32LittleEndian(frameHeader.AsSpan(4)))
                        {
                            problem = "a CRC mismatch";
                        }
                        else
                        {
                            replay(MakePosition(number, offset), payload);
                            offset += FrameHeaderSize + payloadLength;
                            continue;
                        }
                    }
                }

                if (last)
                {
                    // Torn write at the tail: everything before `offset` was committed, the rest never was.
                    return offset;
                }

                throw new StoreCorruptException($"store log segment {Path.GetFileName(path)} is corrupt at offset {offset}: {problem}");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return offset;
    }
}
