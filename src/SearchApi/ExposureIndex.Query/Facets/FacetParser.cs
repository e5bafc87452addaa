using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace ExposureIndex.Query;

/// <summary>One facet to compute: the top <paramref name="Size"/> values of <paramref name="Field"/>'s field.</summary>
public sealed record FacetRequest(FilterDefinition Field, int Size)
{
    public FilterDefinition Field { get; } = Field is null ? throw new ArgumentNullException(nameof(Field))
        : Field.Facetable ? Field : throw new ArgumentException($"filter '{Field.Name}' cannot be used as a facet", nameof(Field));

    public int Size { get; } = Size is >= 1 and <= FacetParser.MaxSize ? Size
        : throw new ArgumentOutOfRangeException(nameof(Size), Size, $"facet size must be between 1 and {FacetParser.MaxSize}");

    public override string ToString() => Field.Name + ":" + Size.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Parses Shodan's facet list: <c>name[:size]</c> items separated by commas (<c>product:10,country</c>), with
/// optional spaces around items. Names match case-insensitively and must be facetable; sizes default to
/// <see cref="DefaultSize"/> and are at most <see cref="MaxSize"/>. Errors carry positions like query errors.
/// </summary>
public static class FacetParser
{
    /// <summary>Size of a facet given without one (Shodan's default).</summary>
    public const int DefaultSize = 5;

    /// <summary>Largest size one facet may ask for.</summary>
    public const int MaxSize = 1000;

    /// <summary>Most facets in one request; each is an aggregation over the result set.</summary>
    public const int MaxFacets = 16;

    /// <summary>Parses with <see cref="FilterCatalog.Default"/>; throws <see cref="QueryException"/> on any error. Empty text gives no facets.</summary>
    public static IReadOnlyList<FacetRequest> Parse(string text) => Parse(text, FilterCatalog.Default);

    /// <summary>Parses with <paramref name="catalog"/>; throws <see cref="QueryException"/> on any error.</summary>
    public static IReadOnlyList<FacetRequest> Parse(string text, FilterCatalog catalog)
    {
        if (!TryParse(text, catalog, out var facets, out var error))
        {
            throw new QueryException(error);
        }

        return facets;
    }

    /// <summary>Parses with <see cref="FilterCatalog.Default"/>; an invalid list is a miss with its first error.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out IReadOnlyList<FacetRequest>? facets, [NotNullWhen(false)] out QueryError? error)
        => TryParse(text, FilterCatalog.Default, out facets, out error);

    /// <summary>Parses with <paramref name="catalog"/>; an invalid list is a miss with its first error.</summary>
    public static bool TryParse(string text, FilterCatalog catalog, [NotNullWhen(true)] out IReadOnlyList<FacetRequest>? facets, [NotNullWhen(false)] out QueryError? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(catalog);
        facets = null;
        if (!QueryParser.TryCheckInput(text, out error))
        {
            return false;
        }

        var result = new List<FacetRequest>();
        if (string.IsNullOrWhiteSpace(text))
        {
            facets = result;
            return true;
        }

        var itemStart = 0;
        while (itemStart <= text.Length)
        {
            var comma = text.IndexOf(',', itemStart);
            var itemEnd = comma < 0 ? text.Length : comma;
            if (result.Count == MaxFacets)
            {
                error = new QueryError($"too many facets at position {itemStart} (limit {MaxFacets})", itemStart, itemEnd - itemStart, null);
                return false;
            }

            if (!TryParseItem(text, itemStart, itemEnd, catalog, result, out var facet, out error))
            {
                return false;
            }

            result.Add(facet);
            if (comma < 0)
            {
                break;
            }

            itemStart = comma + 1;
        }

        facets = result;
        return true;
    }

    /// <summary>The canonical facet list text (<c>product:10,country:5</c>).</summary>
    public static string Format(IEnumerable<FacetRequest> facets)
    {
        ArgumentNullException.ThrowIfNull(facets);
        return string.Join(',', facets.Select(f => f.ToString()));
    }

    private static bool TryParseItem(string text, int start, int end, FilterCatalog catalog, List<FacetRequest> previous, [NotNullWhen(true)] out FacetRequest? facet, [NotNullWhen(false)] out QueryError? error)
    {
        facet = null;
        while (start < end && char.IsWhiteSpace(text[start]))
        {
            start++;
        }

        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }

        if (start == end)
        {
            error = new QueryError($"empty facet at position {start}", start, 0, null);
            return false;
        }

        var colon = text.IndexOf(':', start, end - start);
        var nameEnd = colon < 0 ? end : colon;
        while (nameEnd > start && char.IsWhiteSpace(text[nameEnd - 1]))
        {
            nameEnd--;
        }

        var name = text[start..nameEnd];
        if (!catalog.TryGet(name, out var filter))
        {
            var suggestion = catalog.Suggest(name, facetsOnly: true);
            var hint = suggestion is null ? string.Empty : $" (did you mean '{suggestion}'?)";
            error = new QueryError($"unknown facet '{QueryLexer.Excerpt(name)}' at position {start}{hint}", start, name.Length, name);
            return false;
        }

        if (!filter.Facetable)
        {
            error = new QueryError($"filter '{filter.Name}' at position {start} cannot be used as a facet", start, name.Length, filter.Name);
            return false;
        }

        if (previous.Any(p => ReferenceEquals(p.Field, filter)))
        {
            error = new QueryError($"duplicate facet '{filter.Name}' at position {start}", start, name.Length, filter.Name);
            return false;
        }

        var size = DefaultSize;
        if (colon >= 0)
        {
            var sizeStart = colon + 1;
            while (sizeStart < end && char.IsWhiteSpace(text[sizeStart]))
            {
                sizeStart++;
            }

            var sizeText = text.AsSpan(sizeStart, end - sizeStart);
            var valid = sizeText.Length is > 0 and <= 4;
            foreach (var c in sizeText)
            {
                valid &= char.IsAsciiDigit(c);
            }

            if (!valid || (size = int.Parse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture)) is < 1 or > MaxSize)
            {
                error = new QueryError(
                    $"invalid size '{QueryLexer.Excerpt(sizeText.ToString())}' for facet '{filter.Name}' at position {sizeStart}: expected an integer between 1 and {MaxSize}",
                    sizeStart,
                    sizeText.Length,
                    filter.Name);
                return false;
            }
        }

        facet = new FacetRequest(filter, size);
        error = null;
        return true;
    }
}
