using System.Buffers;

namespace ExposureIndex.Rpc.Core.Internal;

/// <summary>A growable buffer writer over <see cref="ArrayPool{T}"/>, reused between messages.</summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int MinimumSize = 256;
    private const int RetainLimit = 1024 * 1024;

    private byte[] _buffer = [];
    private int _count;

    public int Count => _count;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _count);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _count);

    /// <summary>The written bytes, writable in place (used to patch a reserved message prefix).</summary>
    public Span<byte> WrittenSpanForUpdate => _buffer.AsSpan(0, _count);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_count + count > _buffer.Length)
        {
            throw new InvalidOperationException($"Advanced {count} bytes past the end of a {_buffer.Length}-byte buffer.");
        }

        _count += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_count);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_count);
    }

    /// <summary>Forgets the content; keeps the array unless it grew large.</summary>
    public void Reset()
    {
        _count = 0;
        if (_buffer.Length > RetainLimit)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    public void Dispose()
    {
        _count = 0;
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private void Ensure(int sizeHint)
    {
        var needed = _count + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length)
        {
            return;
        }

        var size = Math.Max(Math.Max(needed, MinimumSize), _buffer.Length * 2);
        var next = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _count).CopyTo(next);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = next;
    }
}
