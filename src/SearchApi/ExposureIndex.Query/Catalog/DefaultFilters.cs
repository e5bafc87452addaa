namespace ExposureIndex.Query;

/// <summary>
/// The default filter vocabulary. Names follow Shodan's search filter reference; field paths follow the banner
/// JSON that <c>BannerJson</c> writes. Appending is safe; renaming or changing a kind breaks saved queries.
/// </summary>
internal static class DefaultFilters
{
    public static IEnumerable<FilterDefinition> Create()
    {
        // --- General -------------------------------------------------------------------------------------
        yield return Integer("port", "port", 0, 65535, facet: true, "Port number of the service.", "port:22,80");
        yield return Network("ip", "IP address, or CIDR block, of the service.", "ip:192.0.2.1", requirePrefix: false);
        yield return Network("net", "CIDR block containing the service's IP address.", "net:192.0.2.0/24", requirePrefix: true);
        yield return Keyword("product", "product", facet: true, "Software or product name of the service.", "product:\"Apache httpd\"", wildcards: true);
        yield return Keyword("version", "version", facet: true, "Version of the product.", "version:2.4.41", wildcards: true);
        yield return new FilterDefinition
        {
            Name = "hostname",
            Kind = FilterKind.Keyword,
            Fields = ["hostnames"],
            MultiValued = true,
            SuffixMatch = true,
            AllowsWildcards = true,
            Normalization = ValueNormalization.Hostname,
            Description = "Hostname of the service; also matches its subdomains.",
            Example = "hostname:example.com",
        };
        yield return new FilterDefinition
        {
            Name = "domain",
            Kind = FilterKind.Keyword,
            Fields = ["domains"],
            MultiValued = true,
            Facetable = true,
            AllowsWildcards = true,
            Normalization = ValueNormalization.Hostname,
            Description = "Registered domain of the service's hostnames.",
            Example = "domain:example.com",
        };
        yield return Allowed("transport", "transport", facet: true, "Transport protocol: tcp or udp.", "transport:udp", "tcp", "udp");
        yield return Hash("hash", "hash", facet: false, "Signed 32-bit MurmurHash3 of the banner data.", "hash:-1234567");
        yield return Keyword("os", "os", facet: true, "Operating system.", "os:Linux", wildcards: true);
        yield return Keyword("module", "_shodan.module", facet: true, "Service name the banner was grabbed as (http, ssh, ...).", "module:ssh", wildcards: true, normalization: ValueNormalization.LowerCase);
        yield return Keyword("tag", "tags", facet: true, "Tag assigned by enrichment (cloud, vpn, self-signed...).", "tag:self-signed", wildcards: true, multi: true);
        yield return new FilterDefinition
        {
            Name = "cpe",
            Kind = FilterKind.Keyword,
            Fields = ["cpe23"],
            MultiValued = true,
            Facetable = true,
            PrefixMatch = true,
            AllowsWildcards = true,
            Normalization = ValueNormalization.Cpe,
            Description = "CPE 2.3 name (a CPE 2.2 URI is converted); a prefix matches every longer name.",
            Example = "cpe:\"cpe:2.3:a:apache:http_server\"",
        };
        yield return Allowed("source", "_exposure.source", facet: true, "Where the observation came from: active, import or passive.", "source:passive", "active", "import", "passive");

        // --- Location and ownership ----------------------------------------------------------------------
        yield return new FilterDefinition
        {
            Name = "country",
            Kind = FilterKind.Keyword,
            Fields = ["location.country_code"],
            Facetable = true,
            Normalization = ValueNormalization.CountryCode,
            Description = "Two-letter ISO 3166-1 country code.",
            Example = "country:US",
        };
        yield return Keyword("city", "location.city", facet: true, "City name.", "city:\"San Diego\"", wildcards: true);
        yield return Keyword("region", "location.region_code", facet: true, "Region (state or province) code.", "region:CA", wildcards: true);
        yield return new FilterDefinition
        {
            Name = "asn",
            Kind = FilterKind.Keyword,
            Fields = ["asn"],
            Facetable = true,
            Normalization = ValueNormalization.AutonomousSystem,
            Description = "Autonomous system number; 15169 and AS15169 both mean AS15169.",
            Example = "asn:AS15169",
        };
        yield return Text("org", "org", facet: true, "Organization that owns the IP space.", "org:\"Google\"");
        yield return Text("isp", "isp", facet: true, "Internet service provider of the IP space.", "isp:\"Comcast\"");

        // --- Time ----------------------------------------------------------------------------------------
        yield return Date("before", FilterComparison.LessThan, "Only observations made before this date (dd/mm/yyyy, yyyy-mm-dd or ISO 8601; UTC unless an offset is given).", "before:31/12/2024");
        yield return Date("after", FilterComparison.GreaterThan, "Only observations made after this date (dd/mm/yyyy, yyyy-mm-dd or ISO 8601; UTC unless an offset is given).", "after:2024-01-01");

        // --- HTTP ----------------------------------------------------------------------------------------
        yield return Text("http.title", "http.title", facet: true, "Words in the HTML title.", "http.title:\"Index of\"");
        yield return Integer("http.status", "http.status", 0, 999, facet: true, "HTTP response status code.", "http.status:200");
        yield return Text("http.server", "http.server", facet: true, "Words in the HTTP Server header.", "http.server:nginx");
        yield return Hash("http.html_hash", "http.html_hash", facet: false, "Signed 32-bit MurmurHash3 of the HTML body.", "http.html_hash:-1234567");
        yield return Hash("http.favicon.hash", "http.favicon.hash", facet: true, "Signed 32-bit MurmurHash3 of the base64-encoded favicon, as Shodan computes it.", "http.favicon.hash:-1234567");

        // --- TLS -----------------------------------------------------------------------------------------
        yield return new FilterDefinition
        {
            Name = "has_ssl",
            Kind = FilterKind.Boolean,
            Fields = ["ssl"],
            TestsPresence = true,
            Description = "Whether the service speaks SSL/TLS.",
            Example = "has_ssl:true",
        };
        yield return Keyword("ssl.cert.subject.cn", "ssl.cert.subject.CN", facet: true, "Common name of the certificate subject.", "ssl.cert.subject.cn:example.com", wildcards: true);
        yield return Keyword("ssl.cert.issuer.cn", "ssl.cert.issuer.CN", facet: true, "Common name of the certificate issuer.", "ssl.cert.issuer.cn:\"R3\"", wildcards: true);
        yield return new FilterDefinition
        {
            Name = "ssl.cert.serial",
            Kind = FilterKind.Keyword,
            Fields = ["ssl.cert.serial"],
            Normalization = ValueNormalization.CertificateSerial,
            Description = "Certificate serial number, in decimal (Shodan's form), or hexadecimal with 0x or colons.",
            Example = "ssl.cert.serial:0x03e8",
        };
        yield return new FilterDefinition
        {
            Name = "ssl.cert.fingerprint",
            Kind = FilterKind.Keyword,
            Fields = ["ssl.cert.fingerprint.sha1", "ssl.cert.fingerprint.sha256"],
            Normalization = ValueNormalization.CertificateFingerprint,
            Description = "SHA-1 or SHA-256 fingerprint of the certificate, in hexadecimal.",
            Example = "ssl.cert.fingerprint:0123456789abcdef0123456789abcdef01234567",
        };
        yield return new FilterDefinition
        {
            Name = "ssl.cert.expired",
            Kind = FilterKind.Boolean,
            Fields = ["ssl.cert.expired"],
            Description = "Whether the certificate had expired when observed.",
            Example = "ssl.cert.expired:true",
        };
        yield return new FilterDefinition
        {
            Name = "ssl.version",
            Kind = FilterKind.Keyword,
            Fields = ["ssl.versions"],
            MultiValued = true,
            Facetable = true,
            AllowedValues = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
            Description = "SSL/TLS version the service supports.",
            Example = "ssl.version:tlsv1.3",
        };
        yield return Keyword("ssl.cipher.name", "ssl.cipher.name", facet: false, "Name of the negotiated cipher suite.", "ssl.cipher.name:TLS_AES_128_GCM_SHA256", wildcards: true);
        yield return Md5("ssl.ja3s", "ssl.ja3s", "JA3S fingerprint of the TLS server hello (MD5, hexadecimal).");

        // --- SSH -----------------------------------------------------------------------------------------
        yield return Md5("ssh.hassh", "ssh.hassh", "HASSH fingerprint of the SSH server (MD5, hexadecimal).");
        yield return Keyword("ssh.type", "ssh.type", facet: true, "Host key type (ssh-ed25519, ssh-rsa...).", "ssh.type:ssh-ed25519", wildcards: true);
        yield return new FilterDefinition
        {
            Name = "ssh.fingerprint",
            Kind = FilterKind.Keyword,
            Fields = ["ssh.fingerprint", "ssh.fingerprint_sha256"],
            CaseSensitive = true,
            Normalization = ValueNormalization.SshFingerprint,
            Description = "Host key fingerprint: MD5 (colon hexadecimal, Shodan's form) or SHA256:base64 (OpenSSH's form).",
            Example = "ssh.fingerprint:dc:14:de:8e:d7:c1:15:43:23:82:25:81:d2:59:e8:c0",
        };
    }

    private static FilterDefinition Keyword(string name, string field, bool facet, string description, string example, bool wildcards = false, ValueNormalization normalization = ValueNormalization.None, bool multi = false)
        => new()
        {
            Name = name,
            Kind = FilterKind.Keyword,
            Fields = [field],
            MultiValued = multi,
            Facetable = facet,
            AllowsWildcards = wildcards,
            Normalization = normalization,
            Description = description,
            Example = example,
        };

    private static FilterDefinition Allowed(string name, string field, bool facet, string description, string example, params string[] allowed)
        => new()
        {
            Name = name,
            Kind = FilterKind.Keyword,
            Fields = [field],
            Facetable = facet,
            AllowedValues = [.. allowed],
            Description = description,
            Example = example,
        };

    private static FilterDefinition Md5(string name, string field, string description)
        => new()
        {
            Name = name,
            Kind = FilterKind.Keyword,
            Fields = [field],
            Facetable = true,
            Normalization = ValueNormalization.Md5Hex,
            Description = description,
            Example = name + ":0123456789abcdef0123456789abcdef",
        };

    private static FilterDefinition Text(string name, string field, bool facet, string description, string example)
        => new()
        {
            Name = name,
            Kind = FilterKind.Text,
            Fields = [field],
            Facetable = facet,
            Description = description,
            Example = example,
        };

    private static FilterDefinition Integer(string name, string field, long min, long max, bool facet, string description, string example)
        => new()
        {
            Name = name,
            Kind = FilterKind.Integer,
            Fields = [field],
            Facetable = facet,
            MinValue = min,
            MaxValue = max,
            Description = description,
            Example = example,
        };

    private static FilterDefinition Hash(string name, string field, bool facet, string description, string example)
        => new()
        {
            Name = name,
            Kind = FilterKind.Hash,
            Fields = [field],
            Facetable = facet,
            MinValue = int.MinValue,
            MaxValue = int.MaxValue,
            Description = description,
            Example = example,
        };

    private static FilterDefinition Network(string name, string description, string example, bool requirePrefix)
        => new()
        {
            Name = name,
            Kind = FilterKind.Network,
            Fields = ["ip_str"],
            RequiresPrefix = requirePrefix,
            Description = description,
            Example = example,
        };

    private static FilterDefinition Date(string name, FilterComparison comparison, string description, string example)
        => new()
        {
            Name = name,
            Kind = FilterKind.Date,
            Fields = ["timestamp"],
            Comparison = comparison,
            Description = description,
            Example = example,
        };
}
