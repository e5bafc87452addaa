using System.Runtime.CompilerServices;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>
/// An inverted index from word (and adjacent word pair) hash to the rows containing it. Rows only ever grow, so
/// each posting list is an append-only sorted sequence.
/// <para>Memory layout is chosen for the garbage collector: posting lists live in a few large int arenas as chains
/// of blocks (sizes 4, 8, ..., 256), and the map holds plain structs, so millions of lists add no objects for the
/// GC to trace. A word seen once keeps its row inline in the map (most banner words are rare: ETags, ids).</para>
/// </summary>
internal sealed class PostingIndex
{
    private const int DefaultChunkShift = 20;
    private const int Header = 3; // next block address (lo, hi), used count; capacity follows from the size class
    private const int MaxBlock = 256;

    private readonly UInt64Map<Entry> _entries = new();
    private readonly List<int[]> _chunks = [];
    private readonly int ChunkShift;
    private readonly int ChunkSize;
    private long _top;

    public PostingIndex()
        : this(DefaultChunkShift)
    {
    }

    /// <summary>Arena chunks of 2^<paramref name="chunkShift"/> ints (tests use small chunks to cross many boundaries).</summary>
    internal PostingIndex(int chunkShift)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(1 << chunkShift, Header + MaxBlock, nameof(chunkShift));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkShift, 30);
        ChunkShift = chunkShift;
        ChunkSize = 1 << chunkShift;
        _top = -ChunkSize;
    }

    public int DistinctTokens => _entries.Count;

    public long PostingCount { get; private set; }

    public long ArenaBytes => (long)_chunks.Count * ChunkSize * sizeof(int);

    /// <summary>Adds <paramref name="row"/> (greater than every row added before) for each word and each adjacent pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(int row, List<ulong> words)
    {
        for (var i = 0; i < words.Count; i++)
        {
            AddKey(row, words[i]);
            if (i > 0)
            {
                AddKey(row, Tokenizer.Bigram(words[i - 1], words[i]));
            }
        }
    }

    /// <summary>Sets the rows containing the word (or word pair) <paramref name="key"/> in <paramref name="result"/>.</summary>
    public void Collect(ulong key, Bitset result)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return;
        }

        if (entry.Count == 1)
        {
            if (entry.Last < result.Length)
            {
                result.Set(entry.Last);
            }

            return;
        }

        for (var block = entry.Head; block >= 0;)
        {
            var (chunk, offset) = Split(block);
            var used = chunk[offset + 2];
            for (var i = 0; i < used; i++)
            {
                var row = chunk[offset + Header + i];
                if (row >= result.Length)
                {
                    return;
                }

                result.Set(row);
            }

            block = ((long)chunk[offset + 1] << 32) | (uint)chunk[offset];
        }
    }

    public int Frequency(ulong key) => _entries.TryGetValue(key, out var entry) ? entry.Count : 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddKey(int row, ulong key)
    {
        ref var entry = ref _entries.GetOrAdd(key, out var exists);
        if (!exists)
        {
            entry = new Entry { Count = 1, Last = row, Head = -1, Tail = -1, TailCapacity = 0 };
            PostingCount++;
            return;
        }

        if (entry.Last == row)
        {
            return; // the same word twice in one document
        }

        if (entry.Count == 1)
        {
            // Second occurrence: the inline row moves into a first block.
            entry.Head = entry.Tail = Allocate(4);
            entry.TailCapacity = 4;
            Append(entry.Tail, entry.Last);
        }

        var (chunk, offset) = Split(entry.Tail);
        if (chunk[offset + 2] == entry.TailCapacity)
        {
            var capacity = Math.Min(MaxBlock, entry.TailCapacity * 2);
            var next = Allocate(capacity);
            chunk[offset] = (int)next;
            chunk[offset + 1] = (int)(next >> 32);
            entry.Tail = next;
            entry.TailCapacity = capacity;
        }

        Append(entry.Tail, row);
        entry.Last = row;
        entry.Count++;
        PostingCount++;
    }

    private void Append(long block, int row)
    {
        var (chunk, offset) = Split(block);
        chunk[offset + Header + chunk[offset + 2]] = row;
        chunk[offset + 2]++;
    }

    private long Allocate(int capacity)
    {
        var size = Header + capacity;
        var chunkIndex = (int)(_top >> ChunkShift);
        var offset = (int)(_top & (ChunkSize - 1));
        // A new chunk when the block does not fit, or when the last block ended exactly at its chunk's end
        // (then _top already addresses the next chunk, which does not exist yet).
        if (_top < 0 || offset + size > ChunkSize || chunkIndex >= _chunks.Count)
        {
            _chunks.Add(new int[ChunkSize]);
            chunkIndex = _chunks.Count - 1;
            offset = 0;
        }

        var address = ((long)chunkIndex << ChunkShift) | (uint)offset;
        var chunk = _chunks[chunkIndex];
        chunk[offset] = -1;
        chunk[offset + 1] = -1;
        chunk[offset + 2] = 0;
        _top = address + size;
        return address;
    }

    private (int[] Chunk, int Offset) Split(long address) => (_chunks[(int)(address >> ChunkShift)], (int)(address & (ChunkSize - 1)));

    private struct Entry
    {
        public int Count;
        public int Last;
        public long Head;
        public long Tail;
        public int TailCapacity;
    }
}
