namespace ExposureIndex.Query;

/// <summary>
/// Bounds on the work one query may ask for (GUIDE §3.9): parsing and matching stay linear in these limits.
/// </summary>
public static class QueryLimits
{
    /// <summary>Longest accepted query text, in UTF-16 code units.</summary>
    public const int MaxQueryLength = 4096;

    /// <summary>Most terms (filters and free-text words or phrases) in one query.</summary>
    public const int MaxTerms = 64;

    /// <summary>Most values in one comma-separated OR-list (<c>port:22,80,443</c>).</summary>
    public const int MaxListValues = 256;

    /// <summary>Most wildcard characters in one value; see <see cref="GlobPattern.MaxWildcards"/>.</summary>
    public const int MaxWildcards = GlobPattern.MaxWildcards;
}
