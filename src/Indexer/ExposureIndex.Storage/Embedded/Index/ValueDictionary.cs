using System.Runtime.CompilerServices;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>
/// Dictionary encoding for one keyword field: each distinct value gets a small id (0 is reserved for
/// "no value"). Filters match against the distinct values (few) and then scan ids (many); facets count ids.
/// Case-insensitive lookups find every casing a field was stored with.
/// </summary>
internal sealed class ValueDictionary
{
    private readonly Dictionary<string, int> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<int>> _folded = new(StringComparer.OrdinalIgnoreCase);
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

        if (_exact.TryGetValue(value, out var id))
        {
            return id;
        }

        id = _values.Count;
        _values.Add(value);
        _exact[value] = id;
        if (!_folded.TryGetValue(value, out var ids))
        {
            ids = new List<int>(1);
            _folded[value] = ids;
        }

        ids.Add(id);
        return id;
    }

    /// <summary>Ids of every stored casing of <paramref name="value"/>.</summary>
    public IReadOnlyList<int> FindIgnoreCase(string value)
        => _folded.TryGetValue(value, out var ids) ? ids : [];

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
