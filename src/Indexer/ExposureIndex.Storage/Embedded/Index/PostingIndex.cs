using System.Runtime.CompilerServices;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>
/// An inverted index from word (and adjacent word pair) hash to the rows containing it. Rows only ever grow, so
/// each posting list is an append-only sorted sequence.
/// <para>Memory layout is chosen for the garbage collector and the cache: posting lists live in a few large int
/// arenas as chains of blocks (4, 8, ..., 256 ints: a two-int header, then rows), each block linking back to the
/// one before it, and the map holds 16-byte slots (key, then either the one row of a word seen once, or the
/// count and the address of the newest block). Millions of lists add no objects for the GC to trace, and four
/// slots share a cache line.</para>
/// <para>The table and the arena are far larger than any cache, so nearly every key of a banner is a cache miss.
/// <see cref="Add"/> therefore works in passes over all the banner's keys: start every slot load, then find the
/// slots and start every block load, then append. The misses overlap instead of following one another.</para>
/// </summary>
internal sealed class PostingIndex
{
    private const int DefaultChunkShift = 20;
    private const int Header = 2; // the previous block's address (0: none), then used | size class << 16
    private const int MinSizeClass = 2; // 4 ints
    private const int MaxSizeClass = 8; // 256 ints
    private const int AddressUnitShift = 2; // block addresses count 4-int units: a uint reaches 64 GiB of arena

    private readonly OpenAddressMap<WordKey, Entry> _entries = new();
    private readonly List<int[]> _chunks = [];
    private readonly int ChunkShift;
    private readonly int ChunkSize;
    private long _top = 1 << AddressUnitShift; // address 0 means "no block"
    private ulong[] _keys = new ulong[256];
    private int[] _slots = new int[256];
    private bool[] _existed = new bool[256];

    public PostingIndex()
        : this(DefaultChunkShift)
    {
    }

    /// <summary>Arena chunks of 2^<paramref name="chunkShift"/> ints (tests use small chunks to cross many boundaries).</summary>
    internal PostingIndex(int chunkShift)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkShift, MaxSizeClass, nameof(chunkShift));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkShift, 30);
        ChunkShift = chunkShift;
        ChunkSize = 1 << chunkShift;
    }

    public int DistinctTokens => _entries.Count;

    public long PostingCount { get; private set; }

    public long ArenaBytes => (long)_chunks.Count * ChunkSize * sizeof(int);

    public long TableBytes => _entries.Bytes;

    /// <summary>Adds <paramref name="row"/> (greater than every row added before) for each word and each adjacent pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(int row, List<ulong> words)
    {
        if (words.Count == 0)
        {
            return;
        }

        var count = (2 * words.Count) - 1;
        if (_keys.Length < count)
        {
            var size = Math.Max(count, _keys.Length * 2);
            _keys = new ulong[size];
            _slots = new int[size];
            _existed = new bool[size];
        }

        var keys = _keys.AsSpan(0, count);
        keys[0] = words[0];
        for (int i = 1, k = 1; i < words.Count; i++)
        {
            keys[k++] = Tokenizer.Bigram(words[i - 1], words[i]);
            keys[k++] = words[i];
        }

        // Pass 1: start loading every key's slot. No slot moves until this banner is done.
        _entries.Reserve(count);
        foreach (var key in keys)
        {
            _entries.Prefetch(new WordKey(key));
        }

        // Pass 2: find (or claim) the slots, and start loading the newest block of every list that has one.
        var slots = _slots.AsSpan(0, count);
        var existed = _existed.AsSpan(0, count);
        for (var k = 0; k < keys.Length; k++)
        {
            slots[k] = _entries.SlotOf(new WordKey(keys[k]), out existed[k]);
            var tail = _entries.ValueAt(slots[k]).Tail;
            if (existed[k] && tail != 0)
            {
                PrefetchBlock(tail);
            }
        }

        // Pass 3: append, in key order (a key seen twice in this banner was claimed by its first occurrence).
        for (var k = 0; k < keys.Length; k++)
        {
            AddRow(ref _entries.ValueAt(slots[k]), existed[k], row);
        }
    }

    /// <summary>Sets the rows containing the word (or word pair) <paramref name="key"/> in <paramref name="result"/>.</summary>
    public void Collect(ulong key, Bitset result)
    {
        if (!_entries.TryGetValue(new WordKey(key), out var entry))
        {
            return;
        }

        if (entry.Tail == 0)
        {
            if (entry.RowOrCount < result.Length)
            {
                result.Set(entry.RowOrCount);
            }

            return;
        }

        // Newest block first; rows beyond the result's length (added after the query began) are skipped.
        for (var block = entry.Tail; block != 0;)
        {
            var (chunk, offset) = Locate(block);
            var used = chunk[offset + 1] & 0xFFFF;
            var rows = chunk.AsSpan(offset + Header, used);
            foreach (var row in rows)
            {
                if (row < result.Length)
                {
                    result.Set(row);
                }
            }

            block = (uint)chunk[offset];
        }
    }

    public int Frequency(ulong key) => !_entries.TryGetValue(new WordKey(key), out var entry) ? 0 : entry.Tail == 0 ? 1 : entry.RowOrCount;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddRow(ref Entry entry, bool existed, int row)
    {
        if (!existed)
        {
            entry = new Entry { RowOrCount = row, Tail = 0 };
            PostingCount++;
            return;
        }

        if (entry.Tail == 0)
        {
            if (entry.RowOrCount == row)
            {
                return; // the same word twice in one document
            }

            // Second occurrence: the inline row moves into a first block.
            var first = Allocate(MinSizeClass, previous: 0);
            var (chunk, offset) = Locate(first);
            chunk[offset + Header] = entry.RowOrCount;
            chunk[offset + Header + 1] = row;
            chunk[offset + 1] = 2 | (MinSizeClass << 16);
            entry = new Entry { RowOrCount = 2, Tail = first };
            PostingCount++;
            return;
        }

        var (tailChunk, tailOffset) = Locate(entry.Tail);
        var header = tailChunk[tailOffset + 1];
        var used = header & 0xFFFF;
        if (tailChunk[tailOffset + Header + used - 1] == row)
        {
            return;
        }

        var sizeClass = header >> 16;
        if (used == (1 << sizeClass) - Header)
        {
            var next = Allocate(Math.Min(MaxSizeClass, sizeClass + 1), previous: entry.Tail);
            var (chunk, offset) = Locate(next);
            chunk[offset + Header] = row;
            chunk[offset + 1]++;
            entry.Tail = next;
        }
        else
        {
            tailChunk[tailOffset + Header + used] = row;
            tailChunk[tailOffset + 1] = header + 1;
        }

        entry.RowOrCount++;
        PostingCount++;
    }

    /// <summary>A new empty block of 2^<paramref name="sizeClass"/> ints linking back to <paramref name="previous"/>.</summary>
    private uint Allocate(int sizeClass, uint previous)
    {
        var size = 1 << sizeClass;
        var chunkIndex = (int)(_top >> ChunkShift);
        var offset = (int)(_top & (ChunkSize - 1));
        if (offset + size > ChunkSize)
        {
            chunkIndex++;
            offset = 0;
        }

        // A block may start a chunk that does not exist yet (also when the last block ended exactly at its chunk's end).
        while (chunkIndex >= _chunks.Count)
        {
            _chunks.Add(new int[ChunkSize]);
        }

        var start = ((long)chunkIndex << ChunkShift) + offset;
        if ((start >> AddressUnitShift) > uint.MaxValue)
        {
            throw new InvalidOperationException("the word index arena is full (64 GiB of posting lists)");
        }

        var chunk = _chunks[chunkIndex];
        chunk[offset] = (int)previous;
        chunk[offset + 1] = sizeClass << 16;
        _top = start + size;
        return (uint)(start >> AddressUnitShift);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private (int[] Chunk, int Offset) Locate(uint address)
    {
        var at = (long)address << AddressUnitShift;
        return (_chunks[(int)(at >> ChunkShift)], (int)(at & (ChunkSize - 1)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchBlock(uint address)
    {
        var (chunk, offset) = Locate(address);
        CacheHint.Prefetch(ref chunk[offset]);
    }

    /// <summary>
    /// A word seen once: <see cref="Tail"/> is 0 and <see cref="RowOrCount"/> is its row. Otherwise
    /// <see cref="RowOrCount"/> is the number of rows and <see cref="Tail"/> the address of the newest block.
    /// </summary>
    private struct Entry
    {
        public int RowOrCount;
        public uint Tail;
    }
}

/// <summary>A word or word pair hash as the word table's key (hashes are already well mixed).</summary>
internal readonly record struct WordKey(ulong Value) : IOpenAddressKey<WordKey>
{
    public ulong Hash => Value;

    public bool IsDefault => Value == 0;
}
