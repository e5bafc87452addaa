using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ExposureIndex.Query;

namespace ExposureIndex.Storage.Elastic;

/// <summary>
/// Compiles the query AST (ExposureIndex.Query) to Elasticsearch Query DSL, per the value-kind table of the query
/// language README, with the same meaning the embedded store gives it (ServiceIndex.MatchValues):
/// <list type="bullet">
/// <item>AND → <c>bool.filter</c> (no scoring: results are sorted explicitly); OR → <c>bool.should</c> with
/// <c>minimum_should_match: 1</c>, or one <c>terms</c> for a plain list of one filter; NOT → <c>bool.must_not</c>
/// (a document without the field matches, as in the embedded store).</item>
/// <item>Keyword: <c>term</c>/<c>terms</c> on the normalized keyword (case-insensitive); hostname suffix match
/// = term OR wildcard <c>*.value</c>; cpe prefix match = <c>prefix</c>; globs = <c>wildcard</c> with
/// <see cref="GlobPattern.Pattern"/> unchanged; all three with <c>case_insensitive</c>.</item>
/// <item>Text filters and free text: <c>match_phrase</c> with our analyzer on the tokenizer's words (free text on
/// <c>data</c>).</item>
/// <item>Integers: <c>term</c>; networks: <c>term</c> with CIDR on the <c>ip</c> field; dates: strict <c>range</c> on
/// microseconds; booleans (has_ssl included, stored as a boolean): <c>term</c>.</item>
/// </list>
/// A filter this store has no field for raises <see cref="StoreQueryException"/>: nothing is ever dropped, so an
/// access-scoping filter can only fail closed.
/// </summary>
internal sealed class ElasticQueryCompiler
{
    private readonly Func<string, ElasticField?> _fields;

    public ElasticQueryCompiler()
        : this(name => ElasticFields.TryGet(name, out var field) ? field : null)
    {
    }

    /// <summary>With a restricted field table (tests of the fail-closed rule).</summary>
    public ElasticQueryCompiler(Func<string, ElasticField?> fields) => _fields = fields;

    public static ElasticQueryCompiler Default { get; } = new();

    /// <summary>Documents of the services index that are current (not gone).</summary>
    public static JsonObject LiveFilter() => Term("live", true);

    /// <summary>Newest row first, as the embedded store pages (see README: "order").</summary>
    public static JsonArray ServiceSort() => new(new JsonObject { ["seq"] = "desc" }, new JsonObject { ["key"] = "asc" });

    /// <summary>The <c>query</c> for a search of current services: live AND scope AND query (scope first, so it cannot be skipped).</summary>
    public JsonObject CompileServiceQuery(QueryNode query, QueryNode? scope)
    {
        ArgumentNullException.ThrowIfNull(query);
        var filters = new JsonArray(LiveFilter());
        if (scope is not null)
        {
            AddTerms(filters, scope);
        }

        AddTerms(filters, query);
        return new JsonObject { ["bool"] = new JsonObject { ["filter"] = filters } };
    }

    /// <summary>The terms of a top-level AND go side by side into one filter list (the same meaning, flatter JSON).</summary>
    private void AddTerms(JsonArray filters, QueryNode node)
    {
        foreach (var term in node is AndNode and ? and.Terms : [node])
        {
            AddConjunct(filters, Compile(term));
        }
    }

    /// <summary>
    /// The whole <c>_search</c> body for a page of <paramref name="request"/> read with from/size (callers switch to
    /// search_after beyond <see cref="ElasticStore.MaxResultWindow"/>). Exact totals (<c>track_total_hits</c>).
    /// </summary>
    public JsonObject BuildSearch(SearchRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = new JsonObject
        {
            ["track_total_hits"] = true,
            ["query"] = CompileServiceQuery(request.Query, request.Scope),
        };
        if (request.Limit > 0)
        {
            body["from"] = Math.Max(0, request.Offset);
            body["size"] = request.Limit;
            body["sort"] = ServiceSort();
            body["_source"] = new JsonArray(ElasticDocuments.ServiceSource.Select(s => (JsonNode?)s).ToArray());
        }
        else
        {
            body["size"] = 0;
        }

        if (request.Facets.Count > 0)
        {
            body["aggs"] = BuildFacets(request.Facets);
        }

        return body;
    }

    /// <summary>
    /// One terms aggregation per facet, over the case-folded field, ordered by count then key; a sub-aggregation
    /// over the stored spellings labels each bucket with its most common one (the embedded store merges casings the
    /// same way). More buckets than asked are fetched so that ties at the cut can be ordered as the embedded store
    /// orders them (by label, ordinal); see <see cref="ReadFacets"/>.
    /// </summary>
    public JsonObject BuildFacets(IReadOnlyList<FacetRequest> facets)
    {
        var aggs = new JsonObject();
        foreach (var facet in facets)
        {
            var field = Field(facet.Field);
            var terms = new JsonObject
            {
                ["field"] = field.FacetField,
                ["size"] = FetchSize(facet.Size),
                ["order"] = new JsonArray(new JsonObject { ["_count"] = "desc" }, new JsonObject { ["_key"] = "asc" }),
            };
            var agg = new JsonObject { ["terms"] = terms };
            if (field.DisplayField is { } display)
            {
                agg["aggs"] = new JsonObject
                {
                    ["spelling"] = new JsonObject
                    {
                        ["terms"] = new JsonObject { ["field"] = display, ["size"] = SpellingsFetched },
                    },
                };
            }

            aggs[facet.Field.Name] = agg;
        }

        return aggs;
    }

    /// <summary>Reads the aggregations of <see cref="BuildFacets"/> into the store's facet buckets.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<FacetBucket>> ReadFacets(IReadOnlyList<FacetRequest> facets, JsonObject? aggregations)
    {
        var result = new Dictionary<string, IReadOnlyList<FacetBucket>>(StringComparer.Ordinal);
        foreach (var facet in facets)
        {
            var name = facet.Field.Name;
            var buckets = new List<FacetBucket>();
            if (aggregations?[name]?["buckets"] is JsonArray array)
            {
                foreach (var bucket in array.OfType<JsonObject>())
                {
                    var key = KeyText(bucket);
                    var count = bucket["doc_count"]?.GetValue<long>() ?? 0;
                    if (count <= 0)
                    {
                        continue;
                    }

                    // The most common stored spelling among those that fold to this key (a multi-valued document adds
                    // its other values to the sub-aggregation too, hence the check).
                    var label = (bucket["spelling"]?["buckets"] as JsonArray)?.OfType<JsonObject>()
                        .Select(KeyText)
                        .FirstOrDefault(s => string.Equals(s, key, StringComparison.OrdinalIgnoreCase)) ?? key;
                    buckets.Add(new FacetBucket(label, count));
                }
            }

            result[name] = buckets
                .OrderByDescending(b => b.Count)
                .ThenBy(b => b.Value, StringComparer.Ordinal)
                .Take(facet.Size)
                .ToList();
        }

        return result;
    }

    /// <summary>Compiles one node; throws <see cref="StoreQueryException"/> for anything this store cannot run.</summary>
    public JsonObject Compile(QueryNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        switch (node)
        {
            case MatchAllNode:
                return new JsonObject { ["match_all"] = new JsonObject() };
            case AndNode and:
            {
                var filters = new JsonArray();
                foreach (var term in and.Terms)
                {
                    AddConjunct(filters, Compile(term));
                }

                return new JsonObject { ["bool"] = new JsonObject { ["filter"] = filters } };
            }

            case OrNode or:
                return CompileOr(or);
            case NotNode not:
                return new JsonObject { ["bool"] = new JsonObject { ["must_not"] = new JsonArray(Compile(not.Term)) } };
            case FilterNode filter:
                return CompileFilter(filter);
            case TextNode text:
            {
                var words = text.Words;
                if (words.Count == 0)
                {
                    throw new StoreQueryException($"free text '{text.Text}' has no word to search for");
                }

                return Phrase("data", words);
            }

            default:
                throw new StoreQueryException($"the Elasticsearch store does not know the query node {node.GetType().Name}");
        }
    }

    private JsonObject CompileOr(OrNode or)
    {
        // A comma list of plain values of one filter is one terms query (port:22,80,443).
        if (or.Terms.All(t => t is FilterNode) && or.Terms.Cast<FilterNode>().Select(f => f.Filter).Distinct().Count() == 1)
        {
            var nodes = or.Terms.Cast<FilterNode>().ToList();
            var field = Field(nodes[0].Filter);
            var plain = !nodes[0].Filter.SuffixMatch && !nodes[0].Filter.PrefixMatch
                        && field.Type is ElasticFieldType.Keyword or ElasticFieldType.ExactKeyword or ElasticFieldType.Integer
                        && nodes.All(n => n.Value is KeywordValue || (n.Value is IntegerValue i && i.Value is >= int.MinValue and <= int.MaxValue));
            if (plain)
            {
                var values = new JsonArray(nodes.Select(n => n.Value switch
                {
                    KeywordValue k => (JsonNode?)k.Value,
                    IntegerValue i => (JsonNode?)(int)i.Value,
                    _ => null,
                }).ToArray());
                return new JsonObject { ["terms"] = new JsonObject { [field.Path] = values } };
            }
        }

        var should = new JsonArray();
        foreach (var term in or.Terms)
        {
            should.Add(Compile(term));
        }

        return new JsonObject { ["bool"] = new JsonObject { ["should"] = should, ["minimum_should_match"] = 1 } };
    }

    private JsonObject CompileFilter(FilterNode node)
    {
        var definition = node.Filter;
        var field = Field(definition);
        switch (field.Type, node.Value)
        {
            case (ElasticFieldType.Ip, NetworkValue network):
                // An ip field takes a CIDR block in a term query ("IP field type", querying).
                return Term(field.Path, network.IsSingleAddress ? network.Network.ToString() : network.ToCidrString());

            case (ElasticFieldType.Micros, DateValue date):
            {
                // As the embedded store: the query time at millisecond precision, compared strictly in microseconds.
                var micros = date.Value.ToUnixTimeMilliseconds() * 1000;
                var op = definition.Comparison == FilterComparison.LessThan ? "lt" : "gt";
                return new JsonObject { ["range"] = new JsonObject { [field.Path] = new JsonObject { [op] = micros } } };
            }

            case (ElasticFieldType.Integer, IntegerValue integer):
                return integer.Value is >= int.MinValue and <= int.MaxValue
                    ? Term(field.Path, (int)integer.Value)
                    : new JsonObject { ["match_none"] = new JsonObject() };

            case (ElasticFieldType.Boolean, BooleanValue boolean):
                return Term(field.Path, boolean.Value);

            case (ElasticFieldType.Text, PhraseValue phrase):
            {
                var words = phrase.Words;
                if (words.Count == 0)
                {
                    throw new StoreQueryException($"filter '{definition.Name}' value '{phrase.Text}' has no word to search for");
                }

                return Phrase(field.Path, words);
            }

            case (ElasticFieldType.Keyword or ElasticFieldType.ExactKeyword, KeywordValue keyword):
                return CompileKeyword(definition, field, keyword.Value);

            case (ElasticFieldType.Keyword or ElasticFieldType.ExactKeyword, WildcardValue wildcard):
                return Wildcard(field.Path, wildcard.Pattern.Pattern, caseInsensitive: !wildcard.Pattern.CaseSensitive && field.Type == ElasticFieldType.Keyword);

            default:
                throw new StoreQueryException($"filter '{definition.Name}' cannot take a {node.Value.GetType().Name} in the Elasticsearch store");
        }
    }

    private static JsonObject CompileKeyword(FilterDefinition definition, ElasticField field, string value)
    {
        var insensitive = field.Type == ElasticFieldType.Keyword;
        if (definition.SuffixMatch)
        {
            // hostname:example.com matches example.com and any name ending in ".example.com".
            return new JsonObject
            {
                ["bool"] = new JsonObject
                {
                    ["should"] = new JsonArray(Term(field.Path, value), Wildcard(field.Path, "*." + EscapeWildcard(value), insensitive)),
                    ["minimum_should_match"] = 1,
                },
            };
        }

        if (definition.PrefixMatch)
        {
            // As the embedded store: any value starting with the given one.
            var prefix = new JsonObject { ["value"] = value };
            if (insensitive)
            {
                prefix["case_insensitive"] = true;
            }

            return new JsonObject { ["prefix"] = new JsonObject { [field.Path] = prefix } };
        }

        // The field's normalizer folds case on the query side too.
        return Term(field.Path, value);
    }

    private ElasticField Field(FilterDefinition definition)
        => _fields(definition.Name) ?? throw new StoreQueryException($"the Elasticsearch store has no field for filter '{definition.Name}'");

    private static void AddConjunct(JsonArray filters, JsonObject compiled)
    {
        if (compiled.ContainsKey("match_all"))
        {
            return;
        }

        filters.Add(compiled);
    }

    private static JsonObject Term(string field, JsonNode? value) => new() { ["term"] = new JsonObject { [field] = value } };

    private static JsonObject Wildcard(string field, string pattern, bool caseInsensitive)
    {
        var wildcard = new JsonObject { ["value"] = pattern };
        if (caseInsensitive)
        {
            wildcard["case_insensitive"] = true;
        }

        return new JsonObject { ["wildcard"] = new JsonObject { [field] = wildcard } };
    }

    /// <summary>The words consecutively; the words are ours (TextTokenizer), so the analyzer only re-splits on the spaces.</summary>
    private static JsonObject Phrase(string field, IReadOnlyList<string> words)
        => new() { ["match_phrase"] = new JsonObject { [field] = new JsonObject { ["query"] = string.Join(' ', words) } } };

    /// <summary>Makes a literal safe inside a wildcard pattern (the syntax GlobPattern shares with Elasticsearch).</summary>
    public static string EscapeWildcard(string literal)
    {
        var builder = new StringBuilder(literal.Length + 4);
        foreach (var c in literal)
        {
            if (c is '*' or '?' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>Asked size plus room for the ties at the cut (at most 100 more).</summary>
    public static int FetchSize(int size) => size + Math.Min(size, 100);

    /// <summary>Spellings fetched per bucket to find the one that folds to the bucket's key.</summary>
    private const int SpellingsFetched = 10;

    private static string KeyText(JsonObject bucket)
    {
        if (bucket["key_as_string"] is JsonValue asString && asString.TryGetValue<string>(out var text))
        {
            return text;
        }

        return bucket["key"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonValue v when v.TryGetValue<long>(out var n) => n.ToString(CultureInfo.InvariantCulture),
            JsonNode other => other.ToJsonString(),
            _ => string.Empty,
        };
    }
}
