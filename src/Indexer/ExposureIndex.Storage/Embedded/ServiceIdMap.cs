using System.Runtime.CompilerServices;

namespace ExposureIndex.Storage.Embedded;

/// <summary>
/// The writer's map from a service (or, with port 0, an address) to an int: open addressing with linear probing
/// and the key and value side by side in one 24-byte slot, so a lookup is usually one cache line where
/// Dictionary reads a bucket and then an entry. With millions of services every lookup is a cache miss, so the
/// writer <see cref="Prefetch"/>es the slots of the records a few places ahead of the one it is processing.
/// No removal: the writer's state only grows.
/// </summary>
internal sealed class ServiceIdMap
{
    private const double MaxLoad = 0.7;
    private const uint Occupied = 1u << 31;
    private Slot[] _slots = new Slot[1024];
    private int _shift = 64 - 10;
    private int _growAt = (int)(1024 * MaxLoad);

    public int Count { get; private set; }

    /// <summary>Makes room for <paramref name="additional"/> more keys, so that no slot moves until they are added.</summary>
    public void Reserve(int additional)
    {
        while (Count + additional > _growAt)
        {
            Grow();
        }
    }

    /// <summary>Starts loading the cache line where <paramref name="key"/>'s probe begins (a hint: never faults).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(in ServiceId key) => CacheHint.Prefetch(ref _slots[Home(key)]);

    /// <summary>A reference to the value of <paramref name="key"/>, added (0) when absent; valid until the next addition.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ref int GetValueRefOrAddDefault(in ServiceId key, out bool exists)
    {
        Reserve(1);
        var (lo, hi, tag) = Split(key);
        var slots = _slots;
        var mask = slots.Length - 1;
        for (var i = Home(key); ; i = (i + 1) & mask)
        {
            ref var slot = ref slots[i];
            if (slot.Tag == tag && slot.Lo == lo && slot.Hi == hi)
            {
                exists = true;
                return ref slot.Value;
            }

            if (slot.Tag == 0)
            {
                slot = new Slot { Lo = lo, Hi = hi, Tag = tag };
                Count++;
                exists = false;
                return ref slot.Value;
            }
        }
    }

    public bool TryGetValue(in ServiceId key, out int value)
    {
        var (lo, hi, tag) = Split(key);
        var mask = _slots.Length - 1;
        for (var i = Home(key); ; i = (i + 1) & mask)
        {
            ref var slot = ref _slots[i];
            if (slot.Tag == tag && slot.Lo == lo && slot.Hi == hi)
            {
                value = slot.Value;
                return true;
            }

            if (slot.Tag == 0)
            {
                value = 0;
                return false;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (ulong Lo, ulong Hi, uint Tag) Split(in ServiceId key)
        => ((ulong)key.Ip, (ulong)(key.Ip >> 64), Occupied | key.Port | ((uint)key.Transport << 16));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(in ServiceId key) => Home(Split(key));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home((ulong Lo, ulong Hi, uint Tag) key)
    {
        var x = (key.Lo ^ (key.Hi * 0xC2B2AE3D27D4EB4FUL)) * 0x9E3779B97F4A7C15UL;
        x ^= (x >> 29) ^ (key.Tag * 0x165667B19E3779F9UL);
        return (int)((x * 0x9E3779B97F4A7C15UL) >> _shift);
    }

    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[old.Length * 2];
        _shift--;
        _growAt = (int)(_slots.Length * MaxLoad);
        var mask = _slots.Length - 1;
        foreach (var slot in old)
        {
            if (slot.Tag == 0)
            {
                continue;
            }

            var i = Home((slot.Lo, slot.Hi, slot.Tag));
            while (_slots[i].Tag != 0)
            {
                i = (i + 1) & mask;
            }

            _slots[i] = slot;
        }
    }

    private struct Slot
    {
        public ulong Lo;
        public ulong Hi;
        public uint Tag; // port | transport << 16 | occupied
        public int Value;
    }
}
