using System.Runtime.InteropServices;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>A single-valued keyword column: dictionary ids per row (0 = no value).</summary>
internal sealed class DictColumn
{
    private readonly ChunkedArray<int> _ids = new();

    public ValueDictionary Values { get; } = new();

    public void Append(string? value) => _ids.Add(Values.GetOrAdd(value));

    public string ValueAt(int row) => Values[_ids[row]];

    /// <summary>Sets rows (below result.Length) whose id is flagged in <paramref name="idMask"/>.</summary>
    public void Match(bool[] idMask, Bitset result)
    {
        var single = SingleId(idMask);
        if (single == 0)
        {
            return;
        }

        var limit = result.Length;
        for (var c = 0; c < _ids.ChunkCount; c++)
        {
            var chunk = _ids.Chunk(c, limit);
            var baseRow = c << ChunkedArray<int>.ChunkShift;
            if (single > 0)
            {
                for (var i = 0; i < chunk.Length; i++)
                {
                    if (chunk[i] == single)
                    {
                        result.Set(baseRow + i);
                    }
                }
            }
            else
            {
                for (var i = 0; i < chunk.Length; i++)
                {
                    var id = chunk[i];
                    if (id < idMask.Length && idMask[id])
                    {
                        result.Set(baseRow + i);
                    }
                }
            }
        }
    }

    /// <summary>Counts ids over the rows in <paramref name="rows"/>.</summary>
    public int[] Count(Bitset rows)
    {
        var counts = new int[Values.Count];
        foreach (var row in rows.Ascending())
        {
            counts[_ids[row]]++;
        }

        return counts;
    }

    /// <summary>-1 when several ids match, 0 when none, else the one id (a tight equality scan).</summary>
    private static int SingleId(bool[] mask)
    {
        var found = 0;
        for (var id = 1; id < mask.Length; id++)
        {
            if (!mask[id])
            {
                continue;
            }

            if (found != 0)
            {
                return -1;
            }

            found = id;
        }

        return found;
    }
}

/// <summary>A multi-valued keyword column (hostnames, tags, cpe ...): per-row lists of dictionary ids.</summary>
internal sealed class MultiDictColumn
{
    private readonly ChunkedArray<int> _start = new();
    private readonly List<int[]> _valueChunks = [];
    private long _valueCount;

    public ValueDictionary Values { get; } = new();

    public void Append(List<string> values)
    {
        var rowStart = _valueCount;
        _start.Add((int)Math.Min(_valueCount, int.MaxValue));
        foreach (var value in values)
        {
            var id = Values.GetOrAdd(value);
            if (id == 0 || ContainsSince(rowStart, id))
            {
                continue; // empty, or the same value twice in one document
            }

            var chunk = (int)(_valueCount >> 16);
            if (chunk == _valueChunks.Count)
            {
                _valueChunks.Add(new int[1 << 16]);
            }

            _valueChunks[chunk][(int)(_valueCount & 0xFFFF)] = id;
            _valueCount++;
        }
    }

    private bool ContainsSince(long start, int id)
    {
        for (var i = start; i < _valueCount; i++)
        {
            if (ValueAtIndex(i) == id)
            {
                return true;
            }
        }

        return false;
    }

    public IEnumerable<string> ValuesAt(int row)
    {
        var (start, end) = Range(row);
        for (var i = start; i < end; i++)
        {
            yield return Values[ValueAtIndex(i)];
        }
    }

    public void Match(bool[] idMask, Bitset result)
    {
        var limit = Math.Min(result.Length, _start.Count);
        for (var row = 0; row < limit; row++)
        {
            var (start, end) = Range(row);
            for (var i = start; i < end; i++)
            {
                var id = ValueAtIndex(i);
                if (id < idMask.Length && idMask[id])
                {
                    result.Set(row);
                    break;
                }
            }
        }
    }

    public int[] Count(Bitset rows)
    {
        var counts = new int[Values.Count];
        foreach (var row in rows.Ascending())
        {
            var (start, end) = Range(row);
            for (var i = start; i < end; i++)
            {
                counts[ValueAtIndex(i)]++;
            }
        }

        return counts;
    }

    private (long Start, long End) Range(int row)
    {
        long start = _start[row];
        long end = row + 1 < _start.Count ? _start[row + 1] : _valueCount;
        return (start, end);
    }

    private int ValueAtIndex(long index) => _valueChunks[(int)(index >> 16)][(int)(index & 0xFFFF)];
}

/// <summary>A 32-bit integer column (port, http.status, hashes).</summary>
internal sealed class IntColumn
{
    private readonly ChunkedArray<int> _values = new();
    private readonly ChunkedArray<bool> _present = new();

    public void Append(int? value)
    {
        _values.Add(value ?? 0);
        _present.Add(value.HasValue);
    }

    public bool TryGet(int row, out int value)
    {
        value = _values[row];
        return _present[row];
    }

    public void Match(Func<int, bool> predicate, Bitset result)
    {
        var limit = result.Length;
        for (var c = 0; c < _values.ChunkCount; c++)
        {
            var values = _values.Chunk(c, limit);
            var present = _present.Chunk(c, limit);
            var baseRow = c << ChunkedArray<int>.ChunkShift;
            for (var i = 0; i < values.Length; i++)
            {
                if (present[i] && predicate(values[i]))
                {
                    result.Set(baseRow + i);
                }
            }
        }
    }

    public void MatchEquals(int value, Bitset result)
    {
        var limit = result.Length;
        for (var c = 0; c < _values.ChunkCount; c++)
        {
            var values = _values.Chunk(c, limit);
            var present = _present.Chunk(c, limit);
            var baseRow = c << ChunkedArray<int>.ChunkShift;
            for (var i = 0; i < values.Length; i++)
            {
                if (values[i] == value && present[i])
                {
                    result.Set(baseRow + i);
                }
            }
        }
    }

    public Dictionary<int, int> Count(Bitset rows)
    {
        var counts = new Dictionary<int, int>();
        foreach (var row in rows.Ascending())
        {
            if (_present[row])
            {
                CollectionsMarshal.GetValueRefOrAddDefault(counts, _values[row], out _)++;
            }
        }

        return counts;
    }
}

/// <summary>A 64-bit column (timestamps as Unix microseconds, log positions).</summary>
internal sealed class LongColumn
{
    private readonly ChunkedArray<long> _values = new();

    public long this[int row]
    {
        get => _values[row];
        set => _values[row] = value;
    }

    public void Append(long value) => _values.Add(value);

    public void MatchRange(long minInclusive, long maxInclusive, Bitset result)
    {
        var limit = result.Length;
        for (var c = 0; c < _values.ChunkCount; c++)
        {
            var values = _values.Chunk(c, limit);
            var baseRow = c << ChunkedArray<long>.ChunkShift;
            for (var i = 0; i < values.Length; i++)
            {
                var v = values[i];
                if (v >= minInclusive && v <= maxInclusive)
                {
                    result.Set(baseRow + i);
                }
            }
        }
    }
}

/// <summary>A boolean column.</summary>
internal sealed class BoolColumn
{
    private readonly ChunkedArray<bool> _values = new();

    public void Append(bool value) => _values.Add(value);

    public bool this[int row] => _values[row];

    public void Match(bool value, Bitset result)
    {
        var limit = result.Length;
        for (var c = 0; c < _values.ChunkCount; c++)
        {
            var values = _values.Chunk(c, limit);
            var baseRow = c << ChunkedArray<bool>.ChunkShift;
            for (var i = 0; i < values.Length; i++)
            {
                if (values[i] == value)
                {
                    result.Set(baseRow + i);
                }
            }
        }
    }

    public (int True, int False) Count(Bitset rows)
    {
        var t = 0;
        var total = 0;
        foreach (var row in rows.Ascending())
        {
            total++;
            if (_values[row])
            {
                t++;
            }
        }

        return (t, total - t);
    }
}

/// <summary>IP addresses as 128-bit numbers (IPv4 mapped into ::ffff:0:0/96), for CIDR range scans.</summary>
internal sealed class IpColumn
{
    private readonly ChunkedArray<UInt128> _values = new();

    public UInt128 this[int row] => _values[row];

    public void Append(UInt128 value) => _values.Add(value);

    public void MatchRange(UInt128 first, UInt128 last, Bitset result)
    {
        var limit = result.Length;
        for (var c = 0; c < _values.ChunkCount; c++)
        {
            var values = _values.Chunk(c, limit);
            var baseRow = c << ChunkedArray<UInt128>.ChunkShift;
            for (var i = 0; i < values.Length; i++)
            {
                var v = values[i];
                if (v >= first && v <= last)
                {
                    result.Set(baseRow + i);
                }
            }
        }
    }
}
