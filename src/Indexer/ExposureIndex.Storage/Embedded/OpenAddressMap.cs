using System.Runtime.CompilerServices;

namespace ExposureIndex.Storage.Embedded;

/// <summary>A key of <see cref="OpenAddressMap{TKey, TValue}"/>: small, unmanaged, with a well-mixed hash.</summary>
internal interface IOpenAddressKey<TSelf> : IEquatable<TSelf>
    where TSelf : unmanaged, IOpenAddressKey<TSelf>
{
    /// <summary>64 well-mixed bits; the map multiplies them once more and takes the top bits.</summary>
    ulong Hash { get; }

    /// <summary>True for the default value, which marks an empty slot (a real key equal to it is kept aside).</summary>
    bool IsDefault { get; }
}

/// <summary>
/// A hash map for the store's large tables (the word index; the writer's services and addresses): open addressing
/// with linear probing and the key and value side by side in one slot, so a lookup usually costs one cache line
/// where Dictionary reads a bucket and then an entry. No removal: these tables only grow.
/// <para>With millions of slots nearly every lookup is a cache miss. Callers with many keys at once use
/// <see cref="Reserve"/>, <see cref="Prefetch"/> and <see cref="SlotOf"/> to start their misses before waiting on
/// the first: after a reservation, no slot moves until that many keys have been added.</para>
/// </summary>
internal sealed class OpenAddressMap<TKey, TValue>
    where TKey : unmanaged, IOpenAddressKey<TKey>
    where TValue : unmanaged
{
    private const double MaxLoad = 0.7;
    private Slot[] _slots = new Slot[1024];
    private int _shift = 64 - 10;
    private int _growAt = (int)(1024 * MaxLoad);
    private bool _hasDefaultKey;
    private TValue _defaultKeyValue;

    public int Count { get; private set; }

    public long Bytes => (long)_slots.Length * Unsafe.SizeOf<Slot>();

    /// <summary>Makes room for <paramref name="additional"/> more keys, so that no slot moves until they are added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Reserve(int additional)
    {
        while (Count + additional > _growAt)
        {
            Grow();
        }
    }

    /// <summary>Starts loading the cache line where <paramref name="key"/>'s probe begins.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(in TKey key) => CacheHint.Prefetch(ref _slots[Home(key)]);

    /// <summary>
    /// The slot of <paramref name="key"/>, claimed (value default) when absent; -1 for the default key, kept aside.
    /// The caller must have reserved room; the slot stays valid until the next reservation grows the table.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int SlotOf(in TKey key, out bool exists)
    {
        if (key.IsDefault)
        {
            exists = _hasDefaultKey;
            if (!_hasDefaultKey)
            {
                _hasDefaultKey = true;
                _defaultKeyValue = default;
                Count++;
            }

            return -1;
        }

        var slots = _slots;
        var mask = slots.Length - 1;
        for (var i = Home(key); ; i = (i + 1) & mask)
        {
            ref var slot = ref slots[i];
            if (slot.Key.Equals(key))
            {
                exists = true;
                return i;
            }

            if (slot.Key.IsDefault)
            {
                slot.Key = key;
                slot.Value = default;
                Count++;
                exists = false;
                return i;
            }
        }
    }

    /// <summary>The value in <paramref name="slot"/> (from <see cref="SlotOf"/>).</summary>
    public ref TValue ValueAt(int slot) => ref slot < 0 ? ref _defaultKeyValue : ref _slots[slot].Value;

    /// <summary>A reference to the value of <paramref name="key"/>, added (default) when absent; valid until the next addition.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ref TValue GetValueRefOrAddDefault(in TKey key, out bool exists)
    {
        Reserve(1);
        return ref ValueAt(SlotOf(key, out exists));
    }

    public bool TryGetValue(in TKey key, out TValue value)
    {
        if (key.IsDefault)
        {
            value = _defaultKeyValue;
            return _hasDefaultKey;
        }

        var mask = _slots.Length - 1;
        for (var i = Home(key); ; i = (i + 1) & mask)
        {
            ref var slot = ref _slots[i];
            if (slot.Key.Equals(key))
            {
                value = slot.Value;
                return true;
            }

            if (slot.Key.IsDefault)
            {
                value = default;
                return false;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(in TKey key) => (int)((key.Hash * 0x9E3779B97F4A7C15UL) >> _shift);

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
            if (slot.Key.IsDefault)
            {
                continue;
            }

            var i = Home(slot.Key);
            while (!_slots[i].Key.IsDefault)
            {
                i = (i + 1) & mask;
            }

            _slots[i] = slot;
        }
    }

    private struct Slot
    {
        public TKey Key;
        public TValue Value;
    }
}
