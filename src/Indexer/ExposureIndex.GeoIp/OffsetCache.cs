using System.Diagnostics.CodeAnalysis;

namespace ExposureIndex.GeoIp;

/// <summary>
/// A bounded, lock-free, direct-mapped cache keyed by a data-section offset. Many networks share one record
/// (MaxMind writers deduplicate records), so caching by offset turns most lookups into one tree walk plus an
/// array read. Entries are immutable objects published with a volatile write, so memory stays at
/// <see cref="Capacity"/> entries whatever the file holds. An empty slot is always filled; an occupied one is
/// replaced only on every 8th colliding miss: under uniform random access (more distinct records than slots)
/// constant replacement turns every cached record into old-generation garbage and costs more in GC than the
/// cache saves, while occasional replacement still lets the cache follow a shifting working set.
/// </summary>
internal sealed class OffsetCache<T>
    where T : class
{
    private readonly Entry?[] _slots;
    private readonly int _shift;

    // Racy on purpose: a lost increment only shifts which miss replaces a slot.
    private int _replaceTicks;

    public OffsetCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var bits = Math.Max(1, (int)Math.Ceiling(Math.Log2(capacity)));
        bits = Math.Min(bits, 24);
        _slots = new Entry?[1 << bits];
        _shift = 64 - bits;
    }

    public int Capacity => _slots.Length;

    public bool TryGet(long key, [NotNullWhen(true)] out T? value)
    {
        var entry = Volatile.Read(ref _slots[Slot(key)]);
        if (entry is not null && entry.Key == key)
        {
            value = entry.Value;
            return true;
        }

        value = null;
        return false;
    }

    public void Set(long key, T value)
    {
        ref var slot = ref _slots[Slot(key)];
        if (Volatile.Read(ref slot) is not null && (++_replaceTicks & 7) != 0)
        {
            return;
        }

        Volatile.Write(ref slot, new Entry(key, value));
    }

    // Fibonacci hashing spreads the (often clustered) offsets over the slots.
    private int Slot(long key) => (int)(unchecked((ulong)key * 0x9E3779B97F4A7C15UL) >> _shift);

    private sealed class Entry(long key, T value)
    {
        public long Key { get; } = key;

        public T Value { get; } = value;
    }
}
