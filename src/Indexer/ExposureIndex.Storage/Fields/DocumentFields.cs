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
    Action<ServiceRecord, List<string>>? Many = null);

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
        new("hostname", StoreFieldKind.MultiKeyword, Many: (r, into) => AddLower(r.Hostnames, into)),
        new("domain", StoreFieldKind.MultiKeyword, Many: (r, into) => AddLower(r.Domains, into)),
        new("transport", StoreFieldKind.Keyword, Text: r => TransportNames.ToText(r.Transport)),
        new("hash", StoreFieldKind.Integer, Integer: r => MurmurHash3.Hash32(r.Data.Span)),
        new("os", StoreFieldKind.Keyword, Text: r => r.Os),
        new("module", StoreFieldKind.Keyword, Text: r => string.IsNullOrEmpty(r.Module) ? null : Lower(r.Module)),
        new("tag", StoreFieldKind.MultiKeyword, Many: (r, into) => into.AddRange(r.Tags)),
        new("cpe", StoreFieldKind.MultiKeyword, Many: (r, into) => AddLower(r.Cpe23, into)),
        new("source", StoreFieldKind.Keyword, Text: r => BannerJson.SourceName(r.Source)),
        new("country", StoreFieldKind.Keyword, Text: r => r.Location is { CountryCode.Length: > 0 } l ? Upper(l.CountryCode) : null),
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
        new("ssl.cert.fingerprint", StoreFieldKind.MultiKeyword, Many: (r, into) => AddFingerprints(Leaf(r), into)),
        new("ssl.cert.expired", StoreFieldKind.Boolean, Boolean: r => Leaf(r) is { Expired: true }),
        new("ssl.version", StoreFieldKind.MultiKeyword, Many: (r, into) => AddTlsVersions(r.Ssl, into)),
        new("ssl.cipher.name", StoreFieldKind.Keyword, Text: r => r.Ssl?.Cipher),
        new("ssl.ja3s", StoreFieldKind.Keyword, Text: r => r.Ssl is { Ja3S.Length: > 0 } t ? Lower(t.Ja3S) : null),
        new("ssh.hassh", StoreFieldKind.Keyword, Text: r => r.Ssh is { Hassh.Length: > 0 } h ? Lower(h.Hassh) : null),
        new("ssh.type", StoreFieldKind.Keyword, Text: r => r.Ssh?.Type),
        new("ssh.fingerprint", StoreFieldKind.MultiKeyword, Many: (r, into) => AddSshFingerprints(r.Ssh, into)),
    ];

    private static readonly Dictionary<string, DocumentField> ByName = All.ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);

    public static bool TryGet(string name, out DocumentField field) => ByName.TryGetValue(name, out field!);

    // Allocation-free helpers for the ingest hot path: strings already in canonical case are reused as they are.
    private static string Lower(string value) => value.AsSpan().IndexOfAnyInRange('A', 'Z') < 0 && System.Text.Ascii.IsValid(value) ? value : value.ToLowerInvariant();

    private static string Upper(string value) => value.AsSpan().IndexOfAnyInRange('a', 'z') < 0 && System.Text.Ascii.IsValid(value) ? value : value.ToUpperInvariant();

    private static void AddLower(IReadOnlyList<string> values, List<string> into)
    {
        for (var i = 0; i < values.Count; i++)
        {
            into.Add(Lower(values[i]));
        }
    }

    private static void AddFingerprints(Certificate? cert, List<string> into)
    {
        if (cert is null)
        {
            return;
        }

        foreach (var fingerprint in (ReadOnlySpan<string>)[cert.Sha1, cert.Sha256])
        {
            if (!string.IsNullOrEmpty(fingerprint))
            {
                into.Add(Lower(fingerprint.Contains(':', StringComparison.Ordinal) ? fingerprint.Replace(":", string.Empty, StringComparison.Ordinal) : fingerprint));
            }
        }
    }

    private static void AddTlsVersions(TlsSection? ssl, List<string> into)
    {
        if (ssl is null)
        {
            return;
        }

        if (ssl.Versions.Count == 0)
        {
            if (!string.IsNullOrEmpty(ssl.Version))
            {
                into.Add(ssl.Version);
            }

            return;
        }

        foreach (var version in ssl.Versions)
        {
            if (!version.StartsWith('-'))
            {
                into.Add(version);
            }
        }
    }

    private static void AddSshFingerprints(SshSection? ssh, List<string> into)
    {
        if (ssh is null)
        {
            return;
        }

        if (!string.IsNullOrEmpty(ssh.Fingerprint))
        {
            into.Add(Lower(ssh.Fingerprint));
        }

        if (!string.IsNullOrEmpty(ssh.FingerprintSha256))
        {
            into.Add(ssh.FingerprintSha256);
        }
    }

    public static Certificate? Leaf(ServiceRecord record) => record.Ssl is { Chain.Count: > 0 } ssl ? ssl.Chain[0] : null;

    /// <summary>"AS15169" whatever form the source used ("15169", "as15169").</summary>
    public static string? NormalizeAsn(string? asn)
    {
        if (string.IsNullOrWhiteSpace(asn))
        {
            return null;
        }

        if (asn.Length > 2 && asn[0] == 'A' && asn[1] == 'S' && asn[2] != '0' && asn.AsSpan(2).IndexOfAnyExceptInRange('0', '9') < 0 && asn.Length <= 12)
        {
            return asn; // already canonical: no allocation on the hot path
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
