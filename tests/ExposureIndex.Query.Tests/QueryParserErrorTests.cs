using ExposureIndex.Query;

namespace ExposureIndex.Query.Tests;

public sealed class QueryParserErrorTests
{
    private const string Ipv4Expected = "expected an IPv4 address of four decimal octets such as 192.0.2.1, an IPv6 address, or a CIDR block";
    private const string DateExpected = "expected a date as dd/mm/yyyy, yyyy-mm-dd or ISO 8601 (yyyy-mm-ddThh:mm:ssZ)";
    private const string NoWildcards = "does not support wildcards (to search for '*' or '?' literally, quote the value and escape them with a backslash)";

    /// <summary>Invalid queries: the exact message, position and length of the first error.</summary>
    public static TheoryData<string, string, int, int> Errors => new()
    {
        // Unknown filters, with suggestions by edit distance.
        { "prot:22", "unknown filter 'prot' at position 0 (did you mean 'port'?)", 0, 4 },
        { "apache contry:US", "unknown filter 'contry' at position 7 (did you mean 'country'?)", 7, 6 },
        { "-hostnme:example.com", "unknown filter 'hostnme' at position 1 (did you mean 'hostname'?)", 1, 7 },
        { "ssl.cert.subjet.cn:x", "unknown filter 'ssl.cert.subjet.cn' at position 0 (did you mean 'ssl.cert.subject.cn'?)", 0, 18 },
        { "xyzzy:1", "unknown filter 'xyzzy' at position 0 (to search for text containing ':', put it in quotes)", 0, 5 },
        { "http://example.com", "unknown filter 'http' at position 0 (to search for text containing ':', put it in quotes)", 0, 4 },
        { "port:22 prot:\"unterminated", "unknown filter 'prot' at position 8 (did you mean 'port'?)", 8, 4 },
        { ":foo", "missing filter name before ':' at position 0", 0, 1 },
        { "-:foo", "missing filter name before ':' at position 1", 1, 1 },

        // Missing and empty values.
        { "port:", "missing value for filter 'port' at position 0", 0, 5 },
        { "port: country:US", "missing value for filter 'port' at position 0", 0, 5 },
        { "apache PORT:", "missing value for filter 'port' at position 7", 7, 5 },
        { "port:\"\"", "missing value for filter 'port' at position 0", 0, 7 },
        { "port:\"  \"", "missing value for filter 'port' at position 0", 0, 9 },
        { "port:22,", "empty value in the list for filter 'port' at position 8", 8, 0 },
        { "port:22,,80", "empty value in the list for filter 'port' at position 8", 8, 0 },
        { "port:,22", "empty value in the list for filter 'port' at position 5", 5, 0 },

        // Integers and hashes.
        { "port:70000", "invalid value '70000' for filter 'port' at position 5: port must be between 0 and 65535", 5, 5 },
        { "port:-1", "invalid value '-1' for filter 'port' at position 5: port must be between 0 and 65535", 5, 2 },
        { "port:abc", "invalid value 'abc' for filter 'port' at position 5: expected an integer", 5, 3 },
        { "port:22,abc", "invalid value 'abc' for filter 'port' at position 8: expected an integer", 8, 3 },
        { "port:+22", "invalid value '+22' for filter 'port' at position 5: expected an integer", 5, 3 },
        { "port:8*", "invalid value '8*' for filter 'port' at position 5: expected an integer", 5, 2 },
        { "port:99999999999999999999", "invalid value '99999999999999999999' for filter 'port' at position 5: port must be between 0 and 65535", 5, 20 },
        { "http.status:1000", "invalid value '1000' for filter 'http.status' at position 12: http.status must be between 0 and 999", 12, 4 },
        { "hash:2147483648", "invalid value '2147483648' for filter 'hash' at position 5: expected a signed 32-bit integer (-2147483648 to 2147483647)", 5, 10 },
        { "hash:-2147483649", "invalid value '-2147483649' for filter 'hash' at position 5: expected a signed 32-bit integer (-2147483648 to 2147483647)", 5, 11 },
        { "hash:--1", "invalid value '--1' for filter 'hash' at position 5: expected a signed 32-bit integer", 5, 3 },
        { "http.favicon.hash:0x10", "invalid value '0x10' for filter 'http.favicon.hash' at position 18: expected a signed 32-bit integer", 18, 4 },

        // Networks.
        { "ip:1.2.3", "invalid value '1.2.3' for filter 'ip' at position 3: " + Ipv4Expected, 3, 5 },
        { "ip:256.1.1.1", "invalid value '256.1.1.1' for filter 'ip' at position 3: " + Ipv4Expected, 3, 9 },
        { "ip:01.2.3.4", "invalid value '01.2.3.4' for filter 'ip' at position 3: " + Ipv4Expected, 3, 8 },
        { "ip:1.2.3.4.5", "invalid value '1.2.3.4.5' for filter 'ip' at position 3: " + Ipv4Expected, 3, 9 },
        { "ip:example.com", "invalid value 'example.com' for filter 'ip' at position 3: " + Ipv4Expected, 3, 11 },
        { "ip:1.2.3.4/33", "invalid value '1.2.3.4/33' for filter 'ip' at position 3: prefix length 33 is out of range for IPv4 (0-32)", 3, 10 },
        { "ip:::1/129", "invalid value '::1/129' for filter 'ip' at position 3: prefix length 129 is out of range for IPv6 (0-128)", 3, 7 },
        { "ip:1.2.3.4/", "invalid value '1.2.3.4/' for filter 'ip' at position 3: missing prefix length after '/'", 3, 8 },
        { "ip:1.2.3.4/x", "invalid value '1.2.3.4/x' for filter 'ip' at position 3: prefix length 'x' is not a number", 3, 9 },
        { "ip:1.2.3.4/-1", "invalid value '1.2.3.4/-1' for filter 'ip' at position 3: prefix length '-1' is not a number", 3, 10 },
        { "ip:fe80::1%eth0", "invalid value 'fe80::1%eth0' for filter 'ip' at position 3: expected an IPv6 address such as 2001:db8::1", 3, 12 },
        { "ip:1:2:3", "invalid value '1:2:3' for filter 'ip' at position 3: expected an IPv6 address such as 2001:db8::1", 3, 5 },
        { "net:192.0.2.1", "invalid value '192.0.2.1' for filter 'net' at position 4: expected a CIDR block such as 192.0.2.0/24 (the prefix length is required)", 4, 9 },
        { "net:2001:db8::", "invalid value '2001:db8::' for filter 'net' at position 4: expected a CIDR block such as 2001:db8::/32 (the prefix length is required)", 4, 10 },

        // Dates and booleans.
        { "before:2024-13-01", "invalid value '2024-13-01' for filter 'before' at position 7: " + DateExpected, 7, 10 },
        { "after:31/02/2024", "invalid value '31/02/2024' for filter 'after' at position 6: " + DateExpected, 6, 10 },
        { "after:yesterday", "invalid value 'yesterday' for filter 'after' at position 6: " + DateExpected, 6, 9 },
        { "after:2024-01-01T25:00:00Z", "invalid value '2024-01-01T25:00:00Z' for filter 'after' at position 6: " + DateExpected, 6, 20 },
        { "has_ssl:maybe", "invalid value 'maybe' for filter 'has_ssl' at position 8: expected true or false", 8, 5 },

        // Keyword validation.
        { "country:USA", "invalid value 'USA' for filter 'country' at position 8: expected a two-letter ISO 3166-1 country code such as US", 8, 3 },
        { "country:ü1", "invalid value 'ü1' for filter 'country' at position 8: expected a two-letter ISO 3166-1 country code such as US", 8, 2 },
        { "transport:sctp", "invalid value 'sctp' for filter 'transport' at position 10: expected one of tcp, udp", 10, 4 },
        { "source:scan", "invalid value 'scan' for filter 'source' at position 7: expected one of active, import, passive", 7, 4 },
        { "ssl.version:tls1.9", "invalid value 'tls1.9' for filter 'ssl.version' at position 12: expected one of SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3", 12, 6 },
        { "asn:ASX", "invalid value 'ASX' for filter 'asn' at position 4: expected an AS number such as AS15169 or 15169 (0 to 4294967295)", 4, 3 },
        { "asn:4294967296", "invalid value '4294967296' for filter 'asn' at position 4: expected an AS number such as AS15169 or 15169 (0 to 4294967295)", 4, 10 },
        { "ssl.ja3s:xyz", "invalid value 'xyz' for filter 'ssl.ja3s' at position 9: expected 32 hexadecimal digits (an MD5 digest)", 9, 3 },
        { "ssl.cert.fingerprint:abcd", "invalid value 'abcd' for filter 'ssl.cert.fingerprint' at position 21: expected a SHA-1 (40 hexadecimal digits) or SHA-256 (64 hexadecimal digits) fingerprint", 21, 4 },
        { "ssl.cert.serial:12ab", "invalid value '12ab' for filter 'ssl.cert.serial' at position 16: expected a serial number of at most 20 octets, in decimal, or in hexadecimal with a 0x prefix or colons", 16, 4 },
        { "ssh.fingerprint:SHA256:short", "invalid value 'SHA256:short' for filter 'ssh.fingerprint' at position 16: expected SHA256: followed by 43 base64 characters", 16, 12 },
        { "cpe:apache", "invalid value 'apache' for filter 'cpe' at position 4: expected a CPE 2.3 name (cpe:2.3:part:vendor:product...) or a CPE 2.2 URI (cpe:/part:vendor:product...)", 4, 6 },
        { "cpe:cpe:/a:a%21b", "invalid value 'cpe:/a:a%21b' for filter 'cpe' at position 4: CPE 2.2 URIs with percent-escapes or packed editions are not supported; use the CPE 2.3 form", 4, 12 },
        { "hostname:\"a b\"", "invalid value 'a b' for filter 'hostname' at position 9: a host name cannot contain whitespace", 9, 5 },
        { "hostname:.", "invalid value '.' for filter 'hostname' at position 9: expected a host name such as www.example.com", 9, 1 },

        // Wildcards.
        { "org:Goo*", "invalid value 'Goo*' for filter 'org' at position 4: filter 'org' " + NoWildcards, 4, 4 },
        { "country:U?", "invalid value 'U?' for filter 'country' at position 8: filter 'country' " + NoWildcards, 8, 2 },
        { "product:*a*b*c*d*e*f*g*h*", "invalid value '*a*b*c*d*e*f*g*h*' for filter 'product' at position 8: 9 wildcards (limit 8)", 8, 17 },
        { "product:\"?????????\"", "invalid value '?????????' for filter 'product' at position 8: 9 wildcards (limit 8)", 8, 11 },

        // Quotes.
        { "product:\"nginx", "unterminated quote at position 8", 8, 6 },
        { "port:22 \"nginx", "unterminated quote at position 8", 8, 6 },
        { "\"abc\\", "unterminated quote at position 0", 0, 5 },
        { "product:\"abc\\", "unterminated quote at position 8", 8, 5 },
        { "city:\"a\",\"b", "unterminated quote at position 9", 9, 2 },
        { "foo\"bar", "unexpected '\"' at position 3 (put the whole phrase in quotes)", 3, 1 },
        { "\"foo\"bar", "expected whitespace after the closing quote at position 5", 5, 1 },
        { "\"foo\"\"bar\"", "expected whitespace after the closing quote at position 5", 5, 1 },
        { "\"\"", "empty phrase at position 0", 0, 2 },
        { "apache \"   \"", "empty phrase at position 7", 7, 5 },

        // Text without words: nothing a word index could match.
        { "***", "free text '***' at position 0 has no searchable word (letters or digits)", 0, 3 },
        { "apache -\"!!\"", "free text '!!' at position 8 has no searchable word (letters or digits)", 8, 4 },
        { "http.title:\"--\"", "invalid value '--' for filter 'http.title' at position 11: the value has no searchable word (letters or digits)", 11, 4 },

        // Negation.
        { "-", "dangling '-' at position 0 (a '-' negates the term written right after it)", 0, 1 },
        { "apache -", "dangling '-' at position 7 (a '-' negates the term written right after it)", 7, 1 },
        { "- port:22", "dangling '-' at position 0 (a '-' negates the term written right after it)", 0, 1 },
        { "--port:22", "unexpected '-' at position 1 (a term can be negated only once)", 1, 1 },
        { "---", "unexpected '-' at position 1 (a term can be negated only once)", 1, 1 },

        // Control characters and broken UTF-16 (checked before anything else).
        { "port:22\u0007", "control character U+0007 at position 7", 7, 1 },
        { "\0", "control character U+0000 at position 0", 0, 1 },
        { "prot:1 a\u001Bb", "control character U+001B at position 8", 8, 1 },
        { "a\u0085b", "control character U+0085 at position 1", 1, 1 },
        { "a\u007F", "control character U+007F at position 1", 1, 1 },
        { "a\vb", "control character U+000B at position 1", 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Parse_InvalidQuery_ThrowsWithExactPosition(string query, string message, int position, int length)
    {
        var exception = Assert.Throws<QueryException>(() => QueryParser.Parse(query));

        Assert.Equal(message, exception.Message);
        Assert.Equal(message, exception.Error.Message);
        Assert.Equal(position, exception.Error.Position);
        Assert.Equal(length, exception.Error.Length);
        Assert.InRange(exception.Error.Position + exception.Error.Length, 0, query.Length);
    }

    [Theory]
    [MemberData(nameof(Errors))]
    public void TryParse_InvalidQuery_ReturnsSameError(string query, string message, int position, int length)
    {
        Assert.False(QueryParser.TryParse(query, out var parsed, out var error));

        Assert.Null(parsed);
        Assert.Equal(new QueryError(message, position, length, error.Filter), error);
    }

    // Lone surrogates do not survive theory-data serialization, so these cases are plain facts.
    [Fact]
    public void Parse_UnpairedSurrogates_FailAtTheirPosition()
    {
        var high = Assert.Throws<QueryException>(() => QueryParser.Parse("a\uD800b")).Error;
        var low = Assert.Throws<QueryException>(() => QueryParser.Parse("port:1 \"\uDC00\"")).Error;
        var reversed = Assert.Throws<QueryException>(() => QueryParser.Parse("\uDC00\uD800")).Error;

        Assert.Equal(new QueryError("unpaired surrogate U+D800 at position 1 (the text is not valid UTF-16)", 1, 1, null), high);
        Assert.Equal(new QueryError("unpaired surrogate U+DC00 at position 8 (the text is not valid UTF-16)", 8, 1, null), low);
        Assert.Equal(0, reversed.Position);
    }

    [Fact]
    public void Parse_WhitespaceInsideQuotedValue_IsEscapedInMessage()
    {
        var error = Assert.Throws<QueryException>(() => QueryParser.Parse("port:\"1\t2\r\n\"")).Error;

        Assert.Equal(@"invalid value '1\t2' for filter 'port' at position 5: expected an integer", error.Message);
    }

    [Theory]
    [InlineData("prot:22", "prot")]
    [InlineData("PORT:x", "port")]
    [InlineData("Country:USA", "country")]
    [InlineData("product:\"a", "product")]
    [InlineData("-", null)]
    [InlineData("\"a", null)]
    public void Parse_Error_NamesFilterInvolved(string query, string? filter)
    {
        var exception = Assert.Throws<QueryException>(() => QueryParser.Parse(query));

        Assert.Equal(filter, exception.Error.Filter);
    }

    [Fact]
    public void Parse_SeveralErrors_ReportsLeftmost()
    {
        var exception = Assert.Throws<QueryException>(() => QueryParser.Parse("port:x prot:1 country:USA"));

        Assert.Equal(5, exception.Error.Position);
    }

    [Fact]
    public void Parse_LongUnknownName_IsShortenedInMessageButKeptInFilter()
    {
        var name = new string('z', 100);

        var exception = Assert.Throws<QueryException>(() => QueryParser.Parse(name + ":1"));

        Assert.Equal($"unknown filter '{new string('z', 40)}...' at position 0 (to search for text containing ':', put it in quotes)", exception.Message);
        Assert.Equal(name, exception.Error.Filter);
        Assert.Equal(100, exception.Error.Length);
    }

    [Fact]
    public void Parse_ShortenedValue_NeverSplitsSurrogatePair()
    {
        var value = new string('a', 39) + "😀😀";

        var exception = Assert.Throws<QueryException>(() => QueryParser.Parse("port:" + value));

        Assert.Contains($"'{new string('a', 39)}...'", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Null_ThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => QueryParser.Parse(null!));
    }
}
