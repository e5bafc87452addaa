using System.Collections.Immutable;

namespace ExposureIndex.Query;

/// <summary>
/// The closed list of search filters. Names are ASCII and match case-insensitively. <see cref="Default"/> holds
/// Shodan's filter vocabulary (names exactly as Shodan spells them) plus <c>source</c>; its field paths are the
/// banner names <c>BannerJson</c> writes (<c>location.country_code</c>, <c>ssl.cert.subject.CN</c>, <c>_shodan.module</c>...).
/// </summary>
public sealed class FilterCatalog
{
    private readonly Dictionary<string, FilterDefinition> _byName;

    private FilterCatalog(IEnumerable<FilterDefinition> filters)
    {
        Filters = [.. filters];
        _byName = new Dictionary<string, FilterDefinition>(StringComparer.Ordinal);
        foreach (var filter in Filters)
        {
            if (!_byName.TryAdd(filter.Name, filter))
            {
                throw new ArgumentException($"filter '{filter.Name}' is defined twice", nameof(filters));
            }
        }

        Facets = [.. Filters.Where(f => f.Facetable)];
    }

    /// <summary>The standard catalog.</summary>
    public static FilterCatalog Default { get; } = new(DefaultFilters.Create());

    /// <summary>Every filter, in documentation order (for <c>/shodan/host/search/filters</c>).</summary>
    public ImmutableArray<FilterDefinition> Filters { get; }

    /// <summary>The facetable filters, in documentation order (for <c>/shodan/host/search/facets</c>).</summary>
    public ImmutableArray<FilterDefinition> Facets { get; }

    /// <summary>The names of <see cref="Filters"/>.</summary>
    public IEnumerable<string> FilterNames => Filters.Select(f => f.Name);

    /// <summary>The names of <see cref="Facets"/>.</summary>
    public IEnumerable<string> FacetNames => Facets.Select(f => f.Name);

    /// <summary>A catalog holding a subset of this one's definitions (e.g. to restrict an API key), by name.</summary>
    public FilterCatalog Restrict(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var wanted = new HashSet<string>(names.Select(n => AsciiLower(n) ?? n), StringComparer.Ordinal);
        return new FilterCatalog(Filters.Where(f => wanted.Contains(f.Name)));
    }

    /// <summary>Looks a filter up by name, case-insensitively (ASCII only: <c>PORT</c> is <c>port</c>).</summary>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FilterDefinition? definition)
    {
        ArgumentNullException.ThrowIfNull(name);
        definition = null;
        var key = AsciiLower(name);
        return key is not null && _byName.TryGetValue(key, out definition);
    }

    /// <summary>The closest name to a misspelt one within a small edit distance (Damerau-Levenshtein, optimal string alignment), or null.</summary>
    public string? Suggest(string name, bool facetsOnly = false)
    {
        ArgumentNullException.ThrowIfNull(name);

        // Beyond this length no filter name is within reach; skipping keeps the work bounded.
        const int MaxComparedLength = 40;
        if (name.Length == 0 || name.Length > MaxComparedLength)
        {
            return null;
        }

        var typed = name.ToLowerInvariant();
        var allowed = typed.Length <= 3 ? 1 : typed.Length <= 8 ? 2 : 3;
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var filter in facetsOnly ? Facets : Filters)
        {
            var distance = EditDistance(typed, filter.Name);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = filter.Name;
            }
        }

        return bestDistance <= allowed && bestDistance < typed.Length ? best : null;
    }

    internal static string? AsciiLower(string name)
    {
        Span<char> buffer = name.Length <= 128 ? stackalloc char[name.Length] : new char[name.Length];
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c > 0x7F)
            {
                return null;
            }

            buffer[i] = c is >= 'A' and <= 'Z' ? (char)(c + 32) : c;
        }

        return new string(buffer);
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions cost 1.</summary>
    internal static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var value = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    value = Math.Min(value, d[i - 2, j - 2] + 1);
                }

                d[i, j] = value;
            }
        }

        return d[a.Length, b.Length];
    }
}
