using System.Numerics;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>A fixed-length set of row numbers; query evaluation is AND/OR/NOT over these.</summary>
internal sealed class Bitset
{
    private readonly ulong[] _words;

    public Bitset(int length)
    {
        Length = length;
        _words = new ulong[(length + 63) >> 6];
    }

    public int Length { get; }

    public Span<ulong> Words => _words;

    public static Bitset All(int length)
    {
        var set = new Bitset(length);
        set._words.AsSpan().Fill(ulong.MaxValue);
        set.TrimTail();
        return set;
    }

    public bool this[int index] => (_words[index >> 6] & (1UL << index)) != 0;

    public void Set(int index) => _words[index >> 6] |= 1UL << index;

    public void Clear(int index) => _words[index >> 6] &= ~(1UL << index);

    public void And(Bitset other)
    {
        var a = _words.AsSpan();
        var b = other._words.AsSpan();
        for (var i = 0; i < a.Length; i++)
        {
            a[i] &= b[i];
        }
    }

    public void Or(Bitset other)
    {
        var a = _words.AsSpan();
        var b = other._words.AsSpan();
        for (var i = 0; i < a.Length; i++)
        {
            a[i] |= b[i];
        }
    }

    public void AndNot(Bitset other)
    {
        var a = _words.AsSpan();
        var b = other._words.AsSpan();
        for (var i = 0; i < a.Length; i++)
        {
            a[i] &= ~b[i];
        }
    }

    public void Not()
    {
        var a = _words.AsSpan();
        for (var i = 0; i < a.Length; i++)
        {
            a[i] = ~a[i];
        }

        TrimTail();
    }

    public int PopCount()
    {
        var total = 0;
        foreach (var word in _words)
        {
            total += BitOperations.PopCount(word);
        }

        return total;
    }

    /// <summary>Set rows in ascending order.</summary>
    public IEnumerable<int> Ascending()
    {
        for (var w = 0; w < _words.Length; w++)
        {
            var word = _words[w];
            while (word != 0)
            {
                yield return (w << 6) + BitOperations.TrailingZeroCount(word);
                word &= word - 1;
            }
        }
    }

    /// <summary>Set rows in descending order (newest rows first).</summary>
    public IEnumerable<int> Descending()
    {
        for (var w = _words.Length - 1; w >= 0; w--)
        {
            var word = _words[w];
            while (word != 0)
            {
                var bit = 63 - BitOperations.LeadingZeroCount(word);
                yield return (w << 6) + bit;
                word &= ~(1UL << bit);
            }
        }
    }

    private void TrimTail()
    {
        var extra = (_words.Length << 6) - Length;
        if (extra > 0)
        {
            _words[^1] &= ulong.MaxValue >> extra;
        }
    }
}

/// <summary>A growable bitset for per-row flags such as tombstones.</summary>
internal sealed class RowFlags
{
    private readonly ChunkedArray<ulong> _words = new();

    public void EnsureCapacity(int rows)
    {
        while (_words.Count << 6 < rows)
        {
            _words.Add(0);
        }
    }

    public bool this[int row] => row >> 6 < _words.Count && (_words[row >> 6] & (1UL << row)) != 0;

    public void Set(int row)
    {
        EnsureCapacity(row + 1);
        _words[row >> 6] |= 1UL << row;
    }

    /// <summary>Removes every flagged row from <paramref name="set"/>.</summary>
    public void RemoveFrom(Bitset set)
    {
        var words = set.Words;
        var n = Math.Min(words.Length, _words.Count);
        for (var i = 0; i < n; i++)
        {
            words[i] &= ~_words[i];
        }
    }
}
