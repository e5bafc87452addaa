using System.Globalization;
using System.Numerics;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.Json;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Storage.Fields;

/// <summary>How a store keeps one filterable field.</summary>
public enum StoreFieldKind
{
    /// <summary>One string per document, exact match (case-insensitive unless the filter says otherwise).</summary>
    Keyword = 1,

    /// <summary>One string per document, matched by words/phrase.</summary>
    Text = 2,

    /// <summary>A 32-bit integer (ports, status codes, hashes).</summary>
    Integer = 3,

    Boolean = 4,

    /// <summary>Several strings per document (hostnames, tags, CPEs).</summary>
    MultiKeyword = 5,

    /// <summary>The service's IP address.</summary>
    Address = 6,

    /// <summary>The observation time.</summary>
    Time = 7,
}

/// <summary>
/// One filterable field and how to read it out of a record, in the exact normalized form the query language
/// produces (ValueParser's normalizations), so that every backend stores and compares the same values.
/// </summary>
public sealed record DocumentField(
    string Name,
    StoreFieldKind Kind,
    Func<ServiceRecord, string?>? Text = null,
    Func<ServiceRecord, int?>? Integer = null,
    Func<ServiceRecord, bool>? Boolean = null,
    Func<ServiceRecord, IEnumerable<string>>? Many = null);

/// <summary>
/// The store-side half of the filter catalog: every filter of <see cref="ExposureIndex.Query.FilterCatalog.Default"/>
/// maps to exactly one field here (a conformance test checks the two lists agree). Shared by the embedded
/// store's columns and the Elasticsearch document mapping.
/// </summary>
public static class DocumentFields
{
    public static IReadOnlyList<DocumentField> All { get; } =
    [
        new("port", StoreFieldKind.Integer, Integer: r => (int)r.Port),
        new("ip", StoreFieldKind.Address),
        new("net", StoreFieldKind.Address),
        new("product", StoreFieldKind.Keyword, Text: r => r.Product),
        new("version", StoreFieldKind.Keyword, Text: r => r.Version),
        new("hostname", StoreFieldKind.MultiKeyword, Many: r => r.Hostnames.Select(h => h.ToLowerInvariant())),
        new("domain", StoreFieldKind.MultiKeyword, Many: r => r.Domains.Select(h => h.ToLowerInvariant())),
        new("transport", StoreFieldKind.Keyword, Text: r => TransportNames.ToText(r.Transport)),
        new("hash", StoreFieldKind.Integer, Integer: r => MurmurHash3.Hash32(r.Data.Span)),
        new("os", StoreFieldKind.Keyword, Text: r => r.Os),
        new("module", StoreFieldKind.Keyword, Text: r => string.IsNullOrEmpty(r.Module) ? null : r.Module.ToLowerInvariant()),
        new("tag", StoreFieldKind.MultiKeyword, Many: r => r.Tags),
        new("cpe", StoreFieldKind.MultiKeyword, Many: r => r.Cpe23.Select(c => c.ToLowerInvariant())),
        new("source", StoreFieldKind.Keyword, Text: r => BannerJson.SourceName(r.Source)),
        new("country", StoreFieldKind.Keyword, Text: r => r.Location?.CountryCode?.ToUpperInvariant()),
        new("city", StoreFieldKind.Keyword, Text: r => r.Location?.City),
        new("region", StoreFieldKind.Keyword, Text: r => r.Location?.RegionCode),
        new("asn", StoreFieldKind.Keyword, Text: r => NormalizeAsn(r.Asn)),
        new("org", StoreFieldKind.Text, Text: r => r.Org),
        new("isp", StoreFieldKind.Text, Text: r => r.Isp),
        new("before", StoreFieldKind.Time),
        new("after", StoreFieldKind.Time),
        new("http.title", StoreFieldKind.Text, Text: r => r.Http?.Title),
        new("http.status", StoreFieldKind.Integer, Integer: r => r.Http is { Status: > 0 } h ? h.Status : null),
        new("http.server", StoreFieldKind.Text, Text: r => r.Http?.Server),
        new("http.html_hash", StoreFieldKind.Integer, Integer: r => r.Http is { } h && (h.HtmlHash != 0 || !h.Html.IsEmpty) ? h.HtmlHash : null),
        new("http.favicon.hash", StoreFieldKind.Integer, Integer: r => r.Http?.Favicon is { } f ? f.Hash : null),
        new("has_ssl", StoreFieldKind.Boolean, Boolean: r => r.Ssl is not null),
        new("ssl.cert.subject.cn", StoreFieldKind.Keyword, Text: r => Leaf(r)?.Subject?.CommonName),
        new("ssl.cert.issuer.cn", StoreFieldKind.Keyword, Text: r => Leaf(r)?.Issuer?.CommonName),
        new("ssl.cert.serial", StoreFieldKind.Keyword, Text: r => SerialToDecimal(Leaf(r)?.Serial)),
        new("ssl.cert.fingerprint", StoreFieldKind.MultiKeyword, Many: r => Leaf(r) is { } c ? new[] { c.Sha1, c.Sha256 }.Where(s => !string.IsNullOrEmpty(s)).Select(s => s.Replace(":", string.Empty, StringComparison.Ordinal).ToLowerInvariant()) : []),
        new("ssl.cert.expired", StoreFieldKind.Boolean, Boolean: r => Leaf(r) is { Expired: true }),
        new("ssl.version", StoreFieldKind.MultiKeyword, Many: r => r.Ssl is null ? [] : r.Ssl.Versions.Count > 0 ? r.Ssl.Versions.Where(v => !v.StartsWith('-')) : string.IsNullOrEmpty(r.Ssl.Version) ? [] : [r.Ssl.Version]),
        new("ssl.cipher.name", StoreFieldKind.Keyword, Text: r => r.Ssl?.Cipher),
        new("ssl.ja3s", StoreFieldKind.Keyword, Text: r => r.Ssl?.Ja3S?.ToLowerInvariant()),
        new("ssh.hassh", StoreFieldKind.Keyword, Text: r => r.Ssh?.Hassh?.ToLowerInvariant()),
        new("ssh.type", StoreFieldKind.Keyword, Text: r => r.Ssh?.Type),
        new("ssh.fingerprint", StoreFieldKind.MultiKeyword, Many: r => r.Ssh is { } s ? new[] { s.Fingerprint?.ToLowerInvariant(), s.FingerprintSha256 }.Where(v => !string.IsNullOrEmpty(v)).Select(v => v!) : []),
    ];

    private static readonly Dictionary<string, DocumentField> ByName = All.ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);

    public static bool TryGet(string name, out DocumentField field) => ByName.TryGetValue(name, out field!);

    public static Certificate? Leaf(ServiceRecord record) => record.Ssl is { Chain.Count: > 0 } ssl ? ssl.Chain[0] : null;

    /// <summary>"AS15169" whatever form the source used ("15169", "as15169").</summary>
    public static string? NormalizeAsn(string? asn)
    {
        if (string.IsNullOrWhiteSpace(asn))
        {
            return null;
        }

        var digits = asn.StartsWith("AS", StringComparison.OrdinalIgnoreCase) ? asn[2..] : asn;
        return uint.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? "AS" + n.ToString(CultureInfo.InvariantCulture) : asn.ToUpperInvariant();
    }

    /// <summary>Certificate serials are stored in hex on the record; queries use Shodan's decimal form.</summary>
    public static string? SerialToDecimal(string? hex)
    {
        if (string.IsNullOrEmpty(hex))
        {
            return null;
        }

        var clean = hex.Replace(":", string.Empty, StringComparison.Ordinal);
        return BigInteger.TryParse("0" + clean, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            ? value.ToString(CultureInfo.InvariantCulture)
            : null;
    }
}
