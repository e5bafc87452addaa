namespace ExposureIndex.SearchApi;

/// <summary>SearchApi settings. Immutable; <see cref="Validate"/> reports every problem at once.</summary>
public sealed record SearchApiOptions
{
    /// <summary>Keys accepted in <c>?key=</c>. At least one is required: the API never runs open.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];

    /// <summary>Shodan pages hold 100 banners.</summary>
    public int PageSize { get; init; } = 100;

    /// <summary>Deepest result reachable by paging (page * size); exports have no such limit.</summary>
    public int MaxResultWindow { get; init; } = 100_000;

    public int MaxFacetSize { get; init; } = 1000;

    /// <summary>Queries slower than this are cancelled with a clear error instead of tying up the server.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ApiKeys.Count == 0)
        {
            errors.Add("at least one API key is required (--api-key)");
        }

        foreach (var key in ApiKeys)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Length < 8 || key.Any(char.IsWhiteSpace))
            {
                errors.Add("an API key must be at least 8 characters with no whitespace");
                break;
            }
        }

        if (PageSize is < 1 or > 1000)
        {
            errors.Add($"page size {PageSize} is outside 1-1000");
        }

        if (MaxResultWindow < PageSize)
        {
            errors.Add("the maximum result window must hold at least one page");
        }

        if (QueryTimeout <= TimeSpan.Zero)
        {
            errors.Add("the query timeout must be positive");
        }

        return errors;
    }
}
