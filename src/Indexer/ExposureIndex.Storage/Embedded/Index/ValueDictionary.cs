using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>
/// Dictionary encoding for one keyword field: each distinct value gets a small id (0 is reserved for
/// "no value"). Filters match against the distinct values (few) and then scan ids (many); facets count ids.
/// Case-insensitive lookups find every casing a field was stored with.
/// </summary>
internal sealed class ValueDictionary
{
    private readonly Dictionary<string, int> _exact = new(StringComparer.Ordinal);
    // Case-insensitive lookups. Most values (fingerprints, hostnames, CPEs: normalized to lower case) are "plain",
    // lower-case ASCII, and are found through _exact by lower-casing the query. The others are chained by folded
    // form: the newest id of each, and per id the next older id of the same folded form (0 ends the chain). So a
    // new plain value costs one dictionary entry; high-cardinality fields add one with nearly every row.
    private readonly Dictionary<string, int> _newestFolded = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<int> _olderFolded = [0];
    private readonly List<string> _values = [string.Empty];
    private int _plainValues;

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
        if (IsPlain(value))
        {
            _olderFolded.Add(0);
            _plainValues++;
        }
        else
        {
            ref var newest = ref CollectionsMarshal.GetValueRefOrAddDefault(_newestFolded, value, out _);
            _olderFolded.Add(newest);
            newest = id;
        }

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

        if (_plainValues == 0)
        {
            return ids;
        }

        if (Ascii.IsValid(value))
        {
            // Between ASCII strings, ignoring case is ASCII case folding: the one plain match is the lower-case form.
            if (_exact.TryGetValue(value.AsSpan().IndexOfAnyInRange('A', 'Z') < 0 ? value : value.ToLowerInvariant(), out var plain))
            {
                ids.Add(plain);
            }
        }
        else
        {
            // A few non-ASCII characters fold to ASCII ones (U+0131 and 'I', U+017F and 'S'): compare with every plain value.
            for (var v = 1; v < _values.Count; v++)
            {
                if (IsPlain(_values[v]) && string.Equals(_values[v], value, StringComparison.OrdinalIgnoreCase))
                {
                    ids.Add(v);
                }
            }
        }

        return ids;
    }

    private static bool IsPlain(string value) => Ascii.IsValid(value) && value.AsSpan().IndexOfAnyInRange('A', 'Z') < 0;

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
