using ExposureIndex.Query;
using ExposureIndex.Storage.Fields;

namespace ExposureIndex.Storage.Elastic;

/// <summary>How one filter field is mapped in Elasticsearch (see <see cref="ElasticMappings"/>).</summary>
internal enum ElasticFieldType
{
    /// <summary><c>keyword</c> with the lower-case normalizer (case-insensitive), plus <c>.raw</c> (as stored, for facet labels).</summary>
    Keyword = 1,

    /// <summary><c>keyword</c> compared exactly (filters marked CaseSensitive).</summary>
    ExactKeyword = 2,

    /// <summary><c>text</c> with our word analyzer, plus <c>.lower</c> (normalized keyword, for facets) and <c>.raw</c>.</summary>
    Text = 3,

    /// <summary><c>integer</c>, plus <c>.keyword</c> so facets order ties by text as the embedded store does.</summary>
    Integer = 4,

    Boolean = 5,

    /// <summary>The <c>ip</c> type: term queries take an address or a CIDR block.</summary>
    Ip = 6,

    /// <summary>Microseconds since the Unix epoch as a <c>long</c>: exact, like the embedded store's clock.</summary>
    Micros = 7,
}

/// <summary>One filter field in the Elasticsearch documents.</summary>
internal sealed record ElasticField(DocumentField Source, string Path, ElasticFieldType Type)
{
    public string Name => Source.Name;

    /// <summary>The field terms aggregations run on (one bucket per case-folded value).</summary>
    public string FacetField => Type switch
    {
        ElasticFieldType.Text => Path + ".lower",
        ElasticFieldType.Integer => Path + ".keyword",
        _ => Path,
    };

    /// <summary>The field holding values as stored, to label case-folded buckets with their most common spelling; null when the bucket key is already that.</summary>
    public string? DisplayField => Type is ElasticFieldType.Keyword or ElasticFieldType.Text ? Path + ".raw" : null;
}

/// <summary>
/// The Elasticsearch side of the filter catalog: where each <see cref="DocumentFields"/> field lives in a
/// document. Paths follow the banner JSON names (Shodan's) without the leading underscores Elasticsearch reserves
/// for metadata, and lists use the banner's plural names. A filter missing here cannot be compiled: the compiler
/// fails closed, and a test checks this table covers every filter of the catalog.
/// </summary>
internal static class ElasticFields
{
    private static readonly Dictionary<string, string> Paths = new(StringComparer.Ordinal)
    {
        ["port"] = "port",
        ["ip"] = "ip",
        ["net"] = "ip",
        ["product"] = "product",
        ["version"] = "version",
        ["hostname"] = "hostnames",
        ["domain"] = "domains",
        ["transport"] = "transport",
        ["hash"] = "hash",
        ["os"] = "os",
        ["module"] = "module",
        ["tag"] = "tags",
        ["cpe"] = "cpe23",
        ["source"] = "source",
        ["country"] = "location.country_code",
        ["city"] = "location.city",
        ["region"] = "location.region_code",
        ["asn"] = "asn",
        ["org"] = "org",
        ["isp"] = "isp",
        ["before"] = "timestamp_us",
        ["after"] = "timestamp_us",
        ["http.title"] = "http.title",
        ["http.status"] = "http.status",
        ["http.server"] = "http.server",
        ["http.html_hash"] = "http.html_hash",
        ["http.favicon.hash"] = "http.favicon.hash",
        ["has_ssl"] = "has_ssl",
        ["ssl.cert.subject.cn"] = "ssl.cert.subject.cn",
        ["ssl.cert.issuer.cn"] = "ssl.cert.issuer.cn",
        ["ssl.cert.serial"] = "ssl.cert.serial",
        ["ssl.cert.fingerprint"] = "ssl.cert.fingerprint",
        ["ssl.cert.expired"] = "ssl.cert.expired",
        ["ssl.version"] = "ssl.versions",
        ["ssl.cipher.name"] = "ssl.cipher.name",
        ["ssl.ja3s"] = "ssl.ja3s",
        ["ssh.hassh"] = "ssh.hassh",
        ["ssh.type"] = "ssh.type",
        ["ssh.fingerprint"] = "ssh.fingerprint",
    };

    /// <summary>Every mapped filter field, in <see cref="DocumentFields.All"/> order.</summary>
    public static IReadOnlyList<ElasticField> All { get; } = Build();

    private static readonly Dictionary<string, ElasticField> ByName = All.ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);

    public static bool TryGet(string filterName, out ElasticField field) => ByName.TryGetValue(filterName, out field!);

    /// <summary>The fields written into documents (ip and time are written once, separately).</summary>
    public static IEnumerable<ElasticField> Stored => All.Where(f => f.Type is not (ElasticFieldType.Ip or ElasticFieldType.Micros));

    private static List<ElasticField> Build()
    {
        var fields = new List<ElasticField>();
        foreach (var field in DocumentFields.All)
        {
            if (!Paths.TryGetValue(field.Name, out var path))
            {
                continue; // unmapped: queries on it fail closed in the compiler
            }

            var caseSensitive = FilterCatalog.Default.TryGet(field.Name, out var definition) && definition.CaseSensitive;
            var type = field.Kind switch
            {
                StoreFieldKind.Keyword or StoreFieldKind.MultiKeyword => caseSensitive ? ElasticFieldType.ExactKeyword : ElasticFieldType.Keyword,
                StoreFieldKind.Text => ElasticFieldType.Text,
                StoreFieldKind.Integer => ElasticFieldType.Integer,
                StoreFieldKind.Boolean => ElasticFieldType.Boolean,
                StoreFieldKind.Address => ElasticFieldType.Ip,
                _ => ElasticFieldType.Micros,
            };
            fields.Add(new ElasticField(field, path, type));
        }

        return fields;
    }
}
