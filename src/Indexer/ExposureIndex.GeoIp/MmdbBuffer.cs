using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace ExposureIndex.GeoIp;

/// <summary>
/// Layer 1 of the reader (buffer, search tree, decoder): a read-only view of the whole file, memory-mapped or
/// held in native memory. Every read is bounds-checked against the file length, so a truncated or hostile file
/// cannot make us read outside the mapping. The view is owned by a <see cref="SafeHandle"/>; callers bracket
/// each operation with <see cref="Enter"/>/<see cref="Exit"/> so that disposing the buffer while a lookup runs on
/// another thread defers the unmap until that lookup is done (SafeHandle reference counting).
/// </summary>
internal sealed unsafe class MmdbBuffer : IDisposable
{
    private readonly SafeHandle _owner;
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _accessor;
    private readonly byte* _base;
    private int _disposed;

    private MmdbBuffer(SafeHandle owner, byte* basePointer, long length, MemoryMappedFile? file, MemoryMappedViewAccessor? accessor)
    {
        _owner = owner;
        _base = basePointer;
        Length = length;
        _file = file;
        _accessor = accessor;
    }

    public long Length { get; }

    /// <summary>Maps <paramref name="path"/> read-only. The length is fixed at open time.</summary>
    public static MmdbBuffer Map(string path)
    {
        // FileShare.Delete lets an operator rename or delete the file while we hold it (replacement by rename).
        FileStream? stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.None);
        MemoryMappedFile? file = null;
        MemoryMappedViewAccessor? accessor = null;
        try
        {
            var length = stream.Length;
            if (length == 0)
            {
                throw new MmdbFormatException($"MMDB file is empty: {path}");
            }

            file = MemoryMappedFile.CreateFromFile(stream, null, length, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            stream = null;
            accessor = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            var handle = accessor.SafeMemoryMappedViewHandle;
            byte* pointer = null;
            handle.AcquirePointer(ref pointer);
            return new MmdbBuffer(handle, pointer + accessor.PointerOffset, length, file, accessor);
        }
        catch
        {
            accessor?.Dispose();
            file?.Dispose();
            stream?.Dispose();
            throw;
        }
    }

    /// <summary>Copies <paramref name="data"/> into native memory (tests, in-memory databases).</summary>
    public static MmdbBuffer FromBytes(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            throw new MmdbFormatException("MMDB file is empty.");
        }

        var handle = NativeBufferHandle.Allocate(data.Length);
        var pointer = (byte*)handle.DangerousGetHandle();
        data.CopyTo(new Span<byte>(pointer, data.Length));
        return new MmdbBuffer(handle, pointer, data.Length, null, null);
    }

    /// <summary>Takes a reference on the view; throws <see cref="ObjectDisposedException"/> once disposed.</summary>
    public void Enter()
    {
        var added = false;
        _owner.DangerousAddRef(ref added);
    }

    public void Exit() => _owner.DangerousRelease();

    public byte this[long offset]
    {
        get
        {
            if ((ulong)offset >= (ulong)Length)
            {
                throw new ArgumentOutOfRangeException(nameof(offset));
            }

            return _base[offset];
        }
    }

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/>, or returns false when they are not all inside the file.</summary>
    public bool TrySlice(long offset, long length, out ReadOnlySpan<byte> span)
    {
        if (offset < 0 || length < 0 || length > int.MaxValue || offset > Length - length)
        {
            span = default;
            return false;
        }

        span = new ReadOnlySpan<byte>(_base + offset, (int)length);
        return true;
    }

    /// <summary>Unchecked read for the search tree, whose bounds were validated once against the file at open.</summary>
    public byte* UncheckedPointer(long offset) => _base + offset;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_accessor is not null)
        {
            _accessor.SafeMemoryMappedViewHandle.ReleasePointer();
            _accessor.Dispose();
            _file?.Dispose();
        }
        else
        {
            _owner.Dispose();
        }
    }

    /// <summary>Native memory owned by a SafeHandle so that in-memory buffers share the mapped ones' lifetime rules.</summary>
    private sealed class NativeBufferHandle : SafeHandle
    {
        private NativeBufferHandle()
            : base(IntPtr.Zero, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        public static NativeBufferHandle Allocate(int length)
        {
            var result = new NativeBufferHandle();
            result.SetHandle((IntPtr)NativeMemory.Alloc((nuint)length));
            return result;
        }

        protected override bool ReleaseHandle()
        {
            NativeMemory.Free((void*)handle);
            return true;
        }
    }
}
