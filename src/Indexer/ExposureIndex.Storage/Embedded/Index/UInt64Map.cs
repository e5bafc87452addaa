using System.Runtime.CompilerServices;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>
/// An open-addressing hash map from 64-bit keys (already well mixed: word hashes) to struct values, with linear
/// probing and the key and value side by side in one slot. A lookup usually costs one cache line, where
/// Dictionary costs two dependent reads (bucket, then entry). No removal: the posting index only grows.
/// Key 0 marks an empty slot, so a real key of 0 is kept aside.
/// </summary>
internal sealed class UInt64Map<TValue>
    where TValue : struct
{
    private const double MaxLoad = 0.7;
    private Slot[] _slots = new Slot[1024];
    private int _shift = 64 - 10;
    private bool _hasZero;
    private TValue _zero;

    public int Count { get; private set; }

    public long Bytes => (long)_slots.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<Slot>();

    /// <summary>A reference to the value of <paramref name="key"/>, added (default) when absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ref TValue GetOrAdd(ulong key, out bool exists)
    {
        if (key == 0)
        {
            exists = _hasZero;
            if (!_hasZero)
            {
                _hasZero = true;
                Count++;
            }

            return ref _zero;
        }

        if (Count + 1 > _slots.Length * MaxLoad)
        {
            Grow();
        }

        var mask = _slots.Length - 1;
        var i = (int)((key * 0x9E3779B97F4A7C15UL) >> _shift);
        while (true)
        {
            ref var slot = ref _slots[i];
            if (slot.Key == key)
            {
                exists = true;
                return ref slot.Value;
            }

            if (slot.Key == 0)
            {
                slot.Key = key;
                slot.Value = default;
                Count++;
                exists = false;
                return ref slot.Value;
            }

            i = (i + 1) & mask;
        }
    }

    public bool TryGetValue(ulong key, out TValue value)
    {
        if (key == 0)
        {
            value = _zero;
            return _hasZero;
        }

        var mask = _slots.Length - 1;
        var i = (int)((key * 0x9E3779B97F4A7C15UL) >> _shift);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[old.Length * 2];
        _shift--;
        var mask = _slots.Length - 1;
        foreach (var slot in old)
        {
            if (slot.Key == 0)
            {
                continue;
            }

            var i = (int)((slot.Key * 0x9E3779B97F4A7C15UL) >> _shift);
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
