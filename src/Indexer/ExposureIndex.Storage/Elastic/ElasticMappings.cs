using System.Text.Json.Nodes;
using ExposureIndex.Query;

namespace ExposureIndex.Storage.Elastic;

/// <summary>The index names of one store (all derived from <see cref="ElasticStoreOptions.IndexPrefix"/>).</summary>
internal sealed record ElasticIndices(string Prefix)
{
    /// <summary>Current state: one document per ip:port/transport, id = the service key.</summary>
    public string Services => Prefix + "-services";

    /// <summary>History: one document per observation, id = record identity, one index per month of observation time.</summary>
    public string ObservationsPattern => Prefix + "-observations-*";

    /// <summary>Change events, id = identity of the observation that caused the event.</summary>
    public string Changes => Prefix + "-changes";
}

/// <summary>
/// Composable index templates (PUT _index_template/NAME, ES 7.8+) for the three kinds of index. Settings pin what
/// the store's guarantees rest on: <c>index.translog.durability: request</c> (a write is fsynced before it is
/// acknowledged) and an explicit <c>refresh_interval</c> (so shards never go search-idle and <c>refresh=wait_for</c>
/// always completes within one interval). The analysis section reproduces the query language's word rule
/// (<see cref="TextTokenizer"/>): a pattern tokenizer splitting on <see cref="TextTokenizer.ElasticsearchSplitPattern"/>,
/// then words cut to <see cref="TextTokenizer.MaxWordLength"/> UTF-16 units, then lower-cased, in that order, as
/// TextTokenizer does. Keyword fields carry a lower-case normalizer, which Elasticsearch applies to term, terms and
/// wildcard query values as well (the "normalizer" mapping reference), so exact matches are case-insensitive.
/// </summary>
internal static class ElasticMappings
{
    /// <summary>Bumped when a mapping changes incompatibly; an existing index with another version is refused at open.</summary>
    public const int SchemaVersion = 1;

    public const string WordAnalyzer = "exposure_words";
    public const string LowercaseNormalizer = "exposure_lowercase";

    /// <summary>Longest keyword indexed (in characters): 8191 x 4 UTF-8 bytes stays under Lucene's 32766-byte term limit.</summary>
    public const int IgnoreAbove = 8191;

    /// <summary>Above the default 100; below anything a user would reasonably add for the same names.</summary>
    public const int TemplatePriority = 200;

    public static IReadOnlyList<(string Name, JsonObject Body)> Templates(ElasticIndices indices, ElasticStoreOptions options)
    =>
    [
        (indices.Services, Template(indices.Services, options, ServiceProperties())),
        (indices.Prefix + "-observations", Template(indices.ObservationsPattern, options, ObservationProperties())),
        (indices.Changes, Template(indices.Changes, options, ChangeProperties())),
    ];

    private static JsonObject Template(string pattern, ElasticStoreOptions options, JsonObject properties)
        => new()
        {
            ["index_patterns"] = new JsonArray(pattern),
            ["priority"] = TemplatePriority,
            ["_meta"] = Meta(),
            ["template"] = new JsonObject
            {
                ["settings"] = new JsonObject
                {
                    ["index"] = new JsonObject
                    {
                        ["number_of_shards"] = options.NumberOfShards,
                        ["number_of_replicas"] = options.NumberOfReplicas,
                        ["refresh_interval"] = "1s",
                        ["translog"] = new JsonObject { ["durability"] = "request" },
                        ["max_result_window"] = ElasticStore.MaxResultWindow,
                    },
                    ["analysis"] = Analysis(),
                },
                ["mappings"] = new JsonObject
                {
                    // Unknown fields stay in _source without growing the mapping (no mapping explosion).
                    ["dynamic"] = "false",
                    ["_meta"] = Meta(),
                    ["properties"] = properties,
                },
            },
        };

    private static JsonObject Meta() => new() { ["managed_by"] = "exposureindex", ["schema_version"] = SchemaVersion };

    private static JsonObject Analysis()
        => new()
        {
            ["tokenizer"] = new JsonObject
            {
                [WordAnalyzer] = new JsonObject { ["type"] = "pattern", ["pattern"] = TextTokenizer.ElasticsearchSplitPattern },
            },
            ["filter"] = new JsonObject
            {
                ["exposure_word_length"] = new JsonObject { ["type"] = "truncate", ["length"] = TextTokenizer.MaxWordLength },
            },
            ["analyzer"] = new JsonObject
            {
                [WordAnalyzer] = new JsonObject
                {
                    ["type"] = "custom",
                    ["tokenizer"] = WordAnalyzer,
                    ["filter"] = new JsonArray("exposure_word_length", "lowercase"),
                },
            },
            ["normalizer"] = new JsonObject
            {
                [LowercaseNormalizer] = new JsonObject { ["type"] = "custom", ["filter"] = new JsonArray("lowercase") },
            },
        };

    /// <summary>The searchable fields every record document has (services and observations alike).</summary>
    public static JsonObject RecordProperties()
    {
        var root = new JsonObject
        {
            ["key"] = Keyword(exact: true),
            ["ip"] = new JsonObject { ["type"] = "ip" },
            ["timestamp"] = Date(),
            ["timestamp_us"] = Long(),
            ["data"] = new JsonObject { ["type"] = "text", ["analyzer"] = WordAnalyzer, ["norms"] = false },
            ["raw"] = new JsonObject { ["type"] = "binary" },
            ["record_id"] = Keyword(exact: true),
            ["batch"] = Long(),
        };
        foreach (var field in ElasticFields.Stored)
        {
            Add(root, field.Path, FieldMapping(field.Type));
        }

        Add(root, "info", Text());
        Add(root, "device_type", KeywordWithRaw());
        Add(root, "scanner", Keyword(exact: true));
        Add(root, "scan_id", Keyword(exact: true));
        Add(root, "outcome", Keyword(exact: true));
        Add(root, "location.country_name", KeywordWithRaw());
        Add(root, "location.postal_code", Keyword(exact: true));
        Add(root, "location.continent_code", Keyword(exact: false));
        Add(root, "location.geo", new JsonObject { ["type"] = "geo_point", ["ignore_malformed"] = true }); // a bad coordinate must not reject the record
        Add(root, "http.host", Keyword(exact: false));
        Add(root, "http.location", Keyword(exact: true));
        Add(root, "http.waf", KeywordWithRaw());
        Add(root, "http.components", KeywordWithRaw());
        Add(root, "ssl.version", Keyword(exact: false));
        Add(root, "ssl.alpn", Keyword(exact: false));
        Add(root, "ssl.jarm", Keyword(exact: false));
        Add(root, "ssl.cipher.bits", new JsonObject { ["type"] = "integer" });
        Add(root, "ssl.cert.subject.o", KeywordWithRaw());
        Add(root, "ssl.cert.issuer.o", KeywordWithRaw());
        Add(root, "ssl.cert.sig_alg", Keyword(exact: false));
        Add(root, "ssl.cert.pubkey.type", Keyword(exact: false));
        Add(root, "ssl.cert.pubkey.bits", new JsonObject { ["type"] = "integer" });
        Add(root, "ssl.cert.self_signed", new JsonObject { ["type"] = "boolean" });
        Add(root, "ssl.cert.not_before", Date());
        Add(root, "ssl.cert.not_after", Date());
        Add(root, "ssl.cert.san", Keyword(exact: false));
        Add(root, "ssh.banner", KeywordWithRaw());

        // Protocol sections (ftp, smtp, redis, ...) and free-form opts: every leaf a keyword, one mapping entry each.
        Add(root, "protocols", new JsonObject { ["type"] = "flattened", ["ignore_above"] = 1024 });
        Add(root, "opts", new JsonObject { ["type"] = "flattened", ["ignore_above"] = 1024 });
        return root;
    }

    private static JsonObject ServiceProperties()
    {
        var root = RecordProperties();
        root["live"] = new JsonObject { ["type"] = "boolean" };
        root["ever_live"] = new JsonObject { ["type"] = "boolean" };
        root["seq"] = Long();
        root["latest_id"] = Keyword(exact: true);
        root["first_seen"] = Date();
        root["first_seen_us"] = Long();
        root["last_seen"] = Date();
        root["last_seen_us"] = Long();
        root["observations"] = Long();
        return root;
    }

    private static JsonObject ObservationProperties() => RecordProperties();

    private static JsonObject ChangeProperties()
        => new()
        {
            ["id"] = Long(),
            ["kind"] = Keyword(exact: true),
            ["key"] = Keyword(exact: true),
            ["timestamp"] = Date(),
            ["timestamp_us"] = Long(),
            ["old_product"] = Keyword(exact: true),
            ["new_product"] = Keyword(exact: true),
            ["old_version"] = Keyword(exact: true),
            ["new_version"] = Keyword(exact: true),
            ["changed_fields"] = Keyword(exact: true),
            ["record_id"] = Keyword(exact: true),
            ["raw"] = new JsonObject { ["type"] = "binary" },
        };

    private static JsonObject FieldMapping(ElasticFieldType type) => type switch
    {
        ElasticFieldType.Keyword => KeywordWithRaw(),
        ElasticFieldType.ExactKeyword => Keyword(exact: true),
        ElasticFieldType.Text => new JsonObject
        {
            ["type"] = "text",
            ["analyzer"] = WordAnalyzer,
            ["norms"] = false,
            ["fields"] = new JsonObject
            {
                ["lower"] = Keyword(exact: false),
                ["raw"] = Keyword(exact: true),
            },
        },
        ElasticFieldType.Integer => new JsonObject
        {
            ["type"] = "integer",
            ["fields"] = new JsonObject { ["keyword"] = new JsonObject { ["type"] = "keyword" } },
        },
        ElasticFieldType.Boolean => new JsonObject { ["type"] = "boolean" },
        ElasticFieldType.Ip => new JsonObject { ["type"] = "ip" },
        _ => Long(),
    };

    private static JsonObject Keyword(bool exact)
    {
        var keyword = new JsonObject { ["type"] = "keyword" };
        if (!exact)
        {
            keyword["normalizer"] = LowercaseNormalizer;
        }

        keyword["ignore_above"] = IgnoreAbove;
        return keyword;
    }

    /// <summary>Case-insensitive keyword with a <c>.raw</c> sub-field keeping the stored spelling (facet labels).</summary>
    private static JsonObject KeywordWithRaw()
    {
        var keyword = Keyword(exact: false);
        keyword["fields"] = new JsonObject { ["raw"] = Keyword(exact: true) };
        return keyword;
    }

    private static JsonObject Text() => new() { ["type"] = "text", ["analyzer"] = WordAnalyzer, ["norms"] = false };

    private static JsonObject Date() => new() { ["type"] = "date" };

    private static JsonObject Long() => new() { ["type"] = "long" };

    /// <summary>Adds a mapping at a dotted path as nested <c>properties</c> objects.</summary>
    private static void Add(JsonObject root, string path, JsonObject mapping)
    {
        var parts = path.Split('.');
        var node = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            if (node[parts[i]] is not JsonObject child)
            {
                child = new JsonObject { ["properties"] = new JsonObject() };
                node[parts[i]] = child;
            }
            else if (child["properties"] is null)
            {
                throw new InvalidOperationException($"mapping path '{path}' crosses the leaf field '{parts[i]}'");
            }

            node = (JsonObject)child["properties"]!;
        }

        if (node.ContainsKey(parts[^1]))
        {
            throw new InvalidOperationException($"mapping path '{path}' is mapped twice");
        }

        node[parts[^1]] = mapping;
    }
}
