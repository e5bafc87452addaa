namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>
/// An append-only array in fixed chunks of 64 Ki elements: growth never copies or moves existing elements,
/// so scans walk whole chunks as spans and a 10M-row column never needs one 40 MB reallocation.
/// </summary>
internal sealed class ChunkedArray<T>
{
    public const int ChunkShift = 16;
    public const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;
    private readonly List<T[]> _chunks = [];

    public int Count { get; private set; }

    public int ChunkCount => _chunks.Count;

    public T this[int index]
    {
        get => _chunks[index >> ChunkShift][index & ChunkMask];
        set => _chunks[index >> ChunkShift][index & ChunkMask] = value;
    }

    /// <summary>A reference to element <paramref name="index"/>, for in-place updates of struct elements.</summary>
    public ref T At(int index) => ref _chunks[index >> ChunkShift][index & ChunkMask];

    public void Add(T value)
    {
        var chunk = Count >> ChunkShift;
        if (chunk == _chunks.Count)
        {
            _chunks.Add(new T[ChunkSize]);
        }

        _chunks[chunk][Count & ChunkMask] = value;
        Count++;
    }

    /// <summary>The used part of chunk <paramref name="chunk"/>, limited to the first <paramref name="rowLimit"/> elements overall.</summary>
    public ReadOnlySpan<T> Chunk(int chunk, int rowLimit)
    {
        var start = chunk << ChunkShift;
        var length = Math.Min(ChunkSize, Math.Min(Count, rowLimit) - start);
        return length <= 0 ? ReadOnlySpan<T>.Empty : _chunks[chunk].AsSpan(0, length);
    }

    public void Clear()
    {
        _chunks.Clear();
        Count = 0;
    }

    public long ApproximateBytes(int elementSize) => (long)_chunks.Count * ChunkSize * elementSize;
}
