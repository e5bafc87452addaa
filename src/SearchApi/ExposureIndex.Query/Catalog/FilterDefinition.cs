using System.Collections.Immutable;

namespace ExposureIndex.Query;

/// <summary>How a filter's values are typed and matched. Values are stable (they may be persisted or logged).</summary>
public enum FilterKind
{
    /// <summary>Exact string (<see cref="KeywordValue"/>), or a glob (<see cref="WildcardValue"/>) where allowed.</summary>
    Keyword = 1,

    /// <summary>Words or phrase contained in the field, case-insensitively (<see cref="PhraseValue"/>).</summary>
    Text = 2,

    /// <summary>Whole number within <see cref="FilterDefinition.MinValue"/>..<see cref="FilterDefinition.MaxValue"/> (<see cref="IntegerValue"/>).</summary>
    Integer = 3,

    /// <summary>IP address or CIDR block (<see cref="NetworkValue"/>).</summary>
    Network = 4,

    /// <summary>A point in time compared per <see cref="FilterDefinition.Comparison"/> (<see cref="DateValue"/>).</summary>
    Date = 5,

    /// <summary>true/false (<see cref="BooleanValue"/>).</summary>
    Boolean = 6,

    /// <summary>A signed 32-bit hash as Shodan computes it (<see cref="IntegerValue"/>).</summary>
    Hash = 7,
}

/// <summary>How a <see cref="FilterKind.Date"/> filter compares the document's field with the value.</summary>
public enum FilterComparison
{
    /// <summary>Field equals the value (every non-date filter).</summary>
    Equal = 0,

    /// <summary>Field is strictly earlier than the value (<c>before:</c>).</summary>
    LessThan = 1,

    /// <summary>Field is strictly later than the value (<c>after:</c>).</summary>
    GreaterThan = 2,
}

/// <summary>Value normalizations owned by the query layer, so every backend receives identical values.</summary>
internal enum ValueNormalization
{
    None = 0,
    LowerCase,
    CountryCode,
    AutonomousSystem,
    Hostname,
    Md5Hex,
    CertificateFingerprint,
    CertificateSerial,
    SshFingerprint,
    Cpe,
}

/// <summary>
/// One search filter: its name as typed in queries, how values are parsed and normalized, and the banner field(s)
/// it targets (Shodan's banner names, as <c>ExposureIndex.Contracts.Json.BannerJson</c> writes them). Instances
/// come from a <see cref="FilterCatalog"/> and compare by reference.
/// </summary>
public sealed class FilterDefinition
{
    internal FilterDefinition()
    {
    }

    /// <summary>Canonical, lower-case name (<c>port</c>, <c>http.title</c>); names match case-insensitively.</summary>
    public string Name { get; internal init; } = string.Empty;

    public FilterKind Kind { get; internal init; }

    /// <summary>The document field path, e.g. <c>location.country_code</c>; the first of <see cref="Fields"/>.</summary>
    public string Field => Fields[0];

    /// <summary>
    /// Every field the filter searches; a document matches when any of them matches. Usually one; e.g.
    /// <c>ssl.cert.fingerprint</c> searches the SHA-1 and SHA-256 fields (the value's length tells them apart).
    /// </summary>
    public ImmutableArray<string> Fields { get; internal init; } = [];

    /// <summary>The field holds a list (hostnames, tags, cpe23...); a document matches when any element matches.</summary>
    public bool MultiValued { get; internal init; }

    /// <summary>Usable in <see cref="FacetParser"/> facet lists.</summary>
    public bool Facetable { get; internal init; }

    /// <summary>Keyword values compare case-sensitively (otherwise ordinal-ignore-case).</summary>
    public bool CaseSensitive { get; internal init; }

    /// <summary>Keyword values may contain <c>*</c> and <c>?</c> wildcards, producing a <see cref="WildcardValue"/>.</summary>
    public bool AllowsWildcards { get; internal init; }

    /// <summary>
    /// A <see cref="KeywordValue"/> matches the field value itself or any value ending in <c>"." + value</c>
    /// (<c>hostname:example.com</c> matches <c>www.example.com</c>, as Shodan does). Wildcard values match whole values.
    /// </summary>
    public bool SuffixMatch { get; internal init; }

    /// <summary>
    /// A <see cref="KeywordValue"/> matches the field value itself or any value starting with <c>value + ":"</c>
    /// (<c>cpe:"cpe:2.3:a:apache:http_server"</c> matches every version). Wildcard values match whole values.
    /// </summary>
    public bool PrefixMatch { get; internal init; }

    /// <summary>
    /// A <see cref="FilterKind.Boolean"/> filter that tests whether <see cref="Field"/> is present (non-null)
    /// rather than reading a boolean field: <c>has_ssl:true</c> means "the document has an <c>ssl</c> section".
    /// </summary>
    public bool TestsPresence { get; internal init; }

    /// <summary>For <see cref="FilterKind.Date"/>: how the field compares with the value.</summary>
    public FilterComparison Comparison { get; internal init; }

    /// <summary>For <see cref="FilterKind.Network"/>: a CIDR prefix is mandatory (<c>net</c>); otherwise a single address is allowed (<c>ip</c>).</summary>
    public bool RequiresPrefix { get; internal init; }

    /// <summary>For <see cref="FilterKind.Integer"/> and <see cref="FilterKind.Hash"/>: smallest accepted value.</summary>
    public long MinValue { get; internal init; }

    /// <summary>For <see cref="FilterKind.Integer"/> and <see cref="FilterKind.Hash"/>: largest accepted value.</summary>
    public long MaxValue { get; internal init; }

    /// <summary>When not empty, the only accepted keyword values (matched case-insensitively, stored in this spelling).</summary>
    public ImmutableArray<string> AllowedValues { get; internal init; } = [];

    /// <summary>One-line description, as served by <c>/shodan/host/search/filters</c> documentation.</summary>
    public string Description { get; internal init; } = string.Empty;

    /// <summary>An example of a valid term.</summary>
    public string Example { get; internal init; } = string.Empty;

    internal ValueNormalization Normalization { get; init; }

    /// <summary>
    /// Parses and normalizes one value as if it were written unquoted after <c>name:</c> (no comma splitting;
    /// <c>*</c> and <c>?</c> are wildcards). An invalid value is a miss with a reason naming the problem.
    /// </summary>
    public bool TryParseValue(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FilterValue? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ValueParser.TryParse(this, RawValue.FromUnquoted(text), out value, out error);
    }

    public override string ToString() => Name;

    internal static FilterValue CheckValue(FilterDefinition? filter, FilterValue? value)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(value);
        var fits = filter.Kind switch
        {
            FilterKind.Keyword => value is KeywordValue || (value is WildcardValue && filter.AllowsWildcards),
            FilterKind.Text => value is PhraseValue,
            FilterKind.Integer or FilterKind.Hash => value is IntegerValue integer && integer.Value >= filter.MinValue && integer.Value <= filter.MaxValue,
            FilterKind.Network => value is NetworkValue,
            FilterKind.Date => value is DateValue,
            FilterKind.Boolean => value is BooleanValue,
            _ => false,
        };
        if (!fits)
        {
            throw new ArgumentException($"a {value.GetType().Name} ({value}) does not fit {filter.Kind} filter '{filter.Name}'", nameof(value));
        }

        return value;
    }
}
