using System.Runtime.CompilerServices;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>
/// An open-addressing hash map from 64-bit keys (already well mixed: word hashes) to struct values, with linear
/// probing and the key and value side by side in one slot. A lookup usually costs one cache line, where
/// Dictionary costs two dependent reads (bucket, then entry). No removal: the posting index only grows.
/// Key 0 marks an empty slot, so a real key of 0 is kept aside.
/// <para>A table of millions of slots does not fit in any cache, so a lookup is a cache miss. Callers with many
/// keys at once (a banner's words) use <see cref="Reserve"/>, <see cref="Prefetch"/> and <see cref="SlotOf"/> to
/// start all their misses before waiting on the first: the slots a batch touches stay where they are between
/// the reservation and the end of the batch.</para>
/// </summary>
internal sealed class UInt64Map<TValue>
    where TValue : unmanaged
{
    private const double MaxLoad = 0.7;
    private Slot[] _slots = new Slot[1024];
    private int _shift = 64 - 10;
    private int _growAt = (int)(1024 * MaxLoad);
    private bool _hasZero;
    private TValue _zero;

    public int Count { get; private set; }

    public long Bytes => (long)_slots.Length * Unsafe.SizeOf<Slot>();

    /// <summary>A reference to the value of <paramref name="key"/>, added (default) when absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ref TValue GetOrAdd(ulong key, out bool exists)
    {
        if (key == 0)
        {
            return ref GetOrAddZero(out exists);
        }

        Reserve(1);
        return ref _slots[SlotOf(key, out exists)].Value;
    }

    /// <summary>Makes room for <paramref name="additional"/> more keys, so that no slot moves until they are added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Reserve(int additional)
    {
        while (Count + additional > _growAt)
        {
            Grow();
        }
    }

    /// <summary>Starts loading the cache line where <paramref name="key"/>'s probe begins (a hint: never faults).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(ulong key) => CacheHint.Prefetch(ref _slots[Home(key)]);

    /// <summary>
    /// The slot of a non-zero <paramref name="key"/>, claimed (value default) when absent. The caller must have
    /// reserved room for it; the slot stays valid until the next reservation grows the table.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int SlotOf(ulong key, out bool exists)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        var i = Home(key);
        while (true)
        {
            ref var slot = ref slots[i];
            if (slot.Key == key)
            {
                exists = true;
                return i;
            }

            if (slot.Key == 0)
            {
                slot.Key = key;
                slot.Value = default;
                Count++;
                exists = false;
                return i;
            }

            i = (i + 1) & mask;
        }
    }

    /// <summary>The value in slot <paramref name="slot"/> (from <see cref="SlotOf"/>).</summary>
    public ref TValue ValueAt(int slot) => ref _slots[slot].Value;

    /// <summary>The value kept aside for key 0, added (default) when absent.</summary>
    public ref TValue GetOrAddZero(out bool exists)
    {
        exists = _hasZero;
        if (!_hasZero)
        {
            _hasZero = true;
            Count++;
        }

        return ref _zero;
    }

    public bool TryGetValue(ulong key, out TValue value)
    {
        if (key == 0)
        {
            value = _zero;
            return _hasZero;
        }

        var mask = _slots.Length - 1;
        var i = Home(key);
        while (true)
        {
            ref var slot = ref _slots[i];
            if (slot.Key == key)
            {
                value = slot.Value;
                return true;
            }

            if (slot.Key == 0)
            {
                value = default;
                return false;
            }

            i = (i + 1) & mask;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> _shift);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[old.Length * 2];
        _shift--;
        _growAt = (int)(_slots.Length * MaxLoad);
        var mask = _slots.Length - 1;
        foreach (var slot in old)
        {
            if (slot.Key == 0)
            {
                continue;
            }

            var i = Home(slot.Key);
            while (_slots[i].Key != 0)
            {
                i = (i + 1) & mask;
            }

            _slots[i] = slot;
        }
    }

    private struct Slot
    {
        public ulong Key;
        public TValue Value;
    }
}
