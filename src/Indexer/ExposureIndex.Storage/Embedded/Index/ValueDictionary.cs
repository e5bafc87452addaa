using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>
/// Dictionary encoding for one keyword field: each distinct value gets a small id (0 is reserved for
/// "no value"). Filters match against the distinct values (few) and then scan ids (many); facets count ids.
/// Case-insensitive lookups find every casing a field was stored with.
/// </summary>
internal sealed class ValueDictionary
{
    private readonly Dictionary<string, int> _exact = new(StringComparer.Ordinal);
    // Case-insensitive lookups without a list per value: the newest id of each folded form, and per id the next
    // older id of the same folded form (0 ends the chain). High-cardinality fields (fingerprints, hostnames) add a
    // value with nearly every row, so a new value costs two dictionary entries and nothing else.
    private readonly Dictionary<string, int> _newestFolded = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<int> _olderFolded = [0];
    private readonly List<string> _values = [string.Empty];

    public int Count => _values.Count;

    public string this[int id] => _values[id];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetOrAdd(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return 0;
        }

        ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(_exact, value, out var exists);
        if (exists)
        {
            return id;
        }

        id = _values.Count;
        _values.Add(value);
        ref var newest = ref CollectionsMarshal.GetValueRefOrAddDefault(_newestFolded, value, out _);
        _olderFolded.Add(newest);
        newest = id;
        return id;
    }

    /// <summary>Ids of every stored casing of <paramref name="value"/>.</summary>
    public IReadOnlyList<int> FindIgnoreCase(string value)
    {
        var ids = new List<int>(1);
        if (_newestFolded.TryGetValue(value, out var id))
        {
            for (; id != 0; id = _olderFolded[id])
            {
                ids.Add(id);
            }
        }

        return ids;
    }

    public bool TryFindExact(string value, out int id) => _exact.TryGetValue(value, out id);

    /// <summary>Marks the ids whose value satisfies <paramref name="predicate"/>; scans distinct values only.</summary>
    public bool[] Match(Func<string, bool> predicate)
    {
        var matches = new bool[_values.Count];
        for (var id = 1; id < _values.Count; id++)
        {
            matches[id] = predicate(_values[id]);
        }

        return matches;
    }
}
