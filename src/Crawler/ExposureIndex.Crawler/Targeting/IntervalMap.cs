namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// Disjoint, sorted key intervals each mapped to a value, looked up by binary search (O(log n)).
/// Built from possibly overlapping entries: where entries overlap, the narrowest one wins (ties go to the one
/// listed first), which is how a special-purpose table nests, e.g. 0.0.0.0/32 inside 0.0.0.0/8.
/// </summary>
internal sealed class IntervalMap<TValue>
{
    private readonly UInt128[] _firsts;
    private readonly UInt128[] _lasts;
    private readonly TValue[] _values;

    private IntervalMap(UInt128[] firsts, UInt128[] lasts, TValue[] values)
    {
        _firsts = firsts;
        _lasts = lasts;
        _values = values;
    }

    public int Count => _firsts.Length;

    public (UInt128 First, UInt128 Last, TValue Value) this[int index] => (_firsts[index], _lasts[index], _values[index]);

    /// <summary>Builds the map with a sweep over entry boundaries: O(n log n) for n entries.</summary>
    public static IntervalMap<TValue> Build(IReadOnlyList<(UInt128 First, UInt128 Last, TValue Value)> entries, UInt128 maxKey)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var events = new List<(UInt128 Point, bool Start, int Entry)>(entries.Count * 2);
        for (var i = 0; i < entries.Count; i++)
        {
            var (first, last, _) = entries[i];
            if (first > last || last > maxKey)
            {
                throw new ArgumentException($"entry {i} is not a valid interval ({first}-{last})", nameof(entries));
            }

            events.Add((first, true, i));
            if (last < maxKey)
            {
                events.Add((last + 1, false, i));
            }
        }

        events.Sort((a, b) => a.Point.CompareTo(b.Point));
        var active = new SortedSet<int>(Comparer<int>.Create((a, b) =>
        {
            var bySpan = (entries[a].Last - entries[a].First).CompareTo(entries[b].Last - entries[b].First);
            return bySpan != 0 ? bySpan : a.CompareTo(b);
        }));

        var firsts = new List<UInt128>();
        var lasts = new List<UInt128>();
        var owners = new List<int>();
        var k = 0;
        while (k < events.Count)
        {
            var point = events[k].Point;
            while (k < events.Count && events[k].Point == point)
            {
                if (events[k].Start)
                {
                    active.Add(events[k].Entry);
                }
                else
                {
                    active.Remove(events[k].Entry);
                }

                k++;
            }

            if (active.Count == 0)
            {
                continue;
            }

            var end = k < events.Count ? events[k].Point - 1 : maxKey;
            var owner = active.Min;
            if (owners.Count > 0 && owners[^1] == owner && lasts[^1] + 1 == point)
            {
                lasts[^1] = end;
            }
            else
            {
                firsts.Add(point);
                lasts.Add(end);
                owners.Add(owner);
            }
        }

        return new IntervalMap<TValue>([.. firsts], [.. lasts], [.. owners.Select(o => entries[o].Value)]);
    }

    public bool TryFind(UInt128 key, out TValue value)
    {
        var index = FirstEndingAtOrAfter(key);
        if (index < _firsts.Length && _firsts[index] <= key)
        {
            value = _values[index];
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Index of the first interval whose end is at or after <paramref name="key"/> (Count if none).</summary>
    public int FirstEndingAtOrAfter(UInt128 key)
    {
        var lo = 0;
        var hi = _lasts.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_lasts[mid] < key)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
