using ExposureIndex.Query;

namespace ExposureIndex.Query.Tests;

public sealed class QueryParserValidTests
{
    /// <summary>Valid queries and their canonical text (the AST printed back).</summary>
    public static TheoryData<string, string> Canonical => new()
    {
        // Empty and free text.
        { "", "" },
        { "   \t\n ", "" },
        { "apache", "apache" },
        { "  apache   nginx  ", "apache nginx" },
        { "foo-bar", "foo-bar" },
        { "foo,bar", "foo,bar" },
        { @"C\Windows", @"C\Windows" },
        { "\"Apache httpd\"", "\"Apache httpd\"" },
        { "\"apache\"", "\"apache\"" },
        { "\"  spaced \t  out  \"", "\"spaced out\"" },
        { "\"a:b\"", "\"a:b\"" },
        { "\"say \\\"hi\\\" \\\\ bye\"", "\"say \\\"hi\\\" \\\\ bye\"" },
        { "\"not, a list\"", "\"not, a list\"" },
        { "-apache", "-apache" },
        { "-\"basic realm\"", "-\"basic realm\"" },

        // Filters, names case-insensitive.
        { "port:22", "port:22" },
        { "PORT:22", "port:22" },
        { "Port:022", "port:22" },
        { "HTTP.Title:test", "http.title:test" },
        { "port:22,80", "port:22,80" },
        { "port:22 port:80", "port:22 port:80" },
        { "port:22\tcountry:us\r\n", "port:22 country:US" },
        { "apache port:80 -country:CN \"default page\"", "apache port:80 -country:CN \"default page\"" },

        // Negation versus negative numbers.
        { "-port:22", "-port:22" },
        { "-port:22,80", "-port:22,80" },
        { "-country:US", "-country:US" },
        { "hash:-123", "hash:-123" },
        { "-hash:-123", "-hash:-123" },
        { "-hash:123", "-hash:123" },
        { "http.html_hash:-2147483648", "http.html_hash:-2147483648" },
        { "http.favicon.hash:2147483647", "http.favicon.hash:2147483647" },
        { "product:-foo", "product:-foo" },

        // Quoting, escaping and comma lists.
        { "product:\"Apache httpd\"", "product:\"Apache httpd\"" },
        { "product:Apache", "product:Apache" },
        { "product:\"Apache\"", "product:Apache" },
        { "product:\"a\"b", "product:ab" },
        { "version:\" 1.0 \"", "version:1.0" },
        { @"product:a\b", @"product:""a\\b""" },
        { "city:\"San Diego,Austin\"", "city:\"San Diego\",Austin" },
        { "city:\"San Diego, Austin\"", "city:\"San Diego\",Austin" },
        { "city:\"San Diego\",Austin", "city:\"San Diego\",Austin" },
        { @"city:""a\,b""", @"city:""a\,b""" },
        { @"product:""say \""hi\""""", @"product:""say \""hi\""""" },
        { "tag:cloud,vpn,self-signed", "tag:cloud,vpn,self-signed" },
        { "org:\"Google  LLC\"", "org:\"Google LLC\"" },
        { "org:\"Google,Amazon\"", "org:Google,Amazon" },
        { "http.title:\"Index of /\"", "http.title:\"Index of /\"" },
        { "http.server:nginx", "http.server:nginx" },
        { @"http.title:""a\*b\?""", @"http.title:""a\*b\?""" },
        { "\"C++\"", "\"C++\"" },

        // Wildcards.
        { "product:\"nginx*\"", "product:nginx*" },
        { "product:nginx*", "product:nginx*" },
        { "product:ng?nx", "product:ng?nx" },
        { "product:\"nginx**\"", "product:nginx*" },
        { @"product:""nginx\*""", @"product:""nginx\*""" },
        { @"product:""n\*x*""", @"product:""n\*x*""" },
        { "product:\"Apache *\"", "product:\"Apache *\"" },
        { "product:\"a*\",b", "product:a*,b" },
        { "hostname:*.Example.com", "hostname:*.example.com" },
        { "product:*a*b*c*d*e*f*g*", "product:*a*b*c*d*e*f*g*" },

        // Normalization kept in the query layer.
        { "country:us,de", "country:US,DE" },
        { "asn:15169", "asn:AS15169" },
        { "asn:as15169", "asn:AS15169" },
        { "asn:AS0015169", "asn:AS15169" },
        { "transport:UDP", "transport:udp" },
        { "source:Passive", "source:passive" },
        { "module:HTTP", "module:http" },
        { "ssl.version:tlsv1.3", "ssl.version:TLSv1.3" },
        { "ssl.version:SSLV2,tlsv1", "ssl.version:SSLv2,TLSv1" },
        { "has_ssl:yes", "has_ssl:true" },
        { "has_ssl:TRUE", "has_ssl:true" },
        { "ssl.cert.expired:0", "ssl.cert.expired:false" },
        { "hostname:WWW.Example.COM.", "hostname:www.example.com" },
        { "domain:Example.COM", "domain:example.com" },
        { "ssl.ja3s:0123456789ABCDEF0123456789ABCDEF", "ssl.ja3s:0123456789abcdef0123456789abcdef" },
        { "ssh.hassh:0123456789abcdef0123456789abcdef", "ssh.hassh:0123456789abcdef0123456789abcdef" },
        { "ssh.fingerprint:DC14DE8ED7C1154323822581D259E8C0", "ssh.fingerprint:dc:14:de:8e:d7:c1:15:43:23:82:25:81:d2:59:e8:c0" },
        { "ssh.fingerprint:sha256:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/abcde", "ssh.fingerprint:SHA256:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/abcde" },
        { "ssl.cert.serial:0x03E8", "ssl.cert.serial:1000" },
        { "ssl.cert.serial:03:e8", "ssl.cert.serial:1000" },
        { "ssl.cert.serial:00123", "ssl.cert.serial:123" },
        { "ssl.cert.fingerprint:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD", "ssl.cert.fingerprint:aabbccddeeff00112233445566778899aabbccdd" },
        { "cpe:cpe:/a:Apache:http_server", "cpe:cpe:2.3:a:apache:http_server" },
        { "cpe:\"cpe:2.3:a:apache:http_server\"", "cpe:cpe:2.3:a:apache:http_server" },
        { "cpe:cpe:2.3:a:apache:*", "cpe:cpe:2.3:a:apache:*" },
        { "http.status:200", "http.status:200" },
        { "ssl.cert.subject.cn:example.com", "ssl.cert.subject.cn:example.com" },
        { "ssl.cert.issuer.cn:\"Let's Encrypt\"", "ssl.cert.issuer.cn:\"Let's Encrypt\"" },
        { "ssl.cipher.name:TLS_AES_128_GCM_SHA256", "ssl.cipher.name:TLS_AES_128_GCM_SHA256" },
        { "ssh.type:ssh-ed25519", "ssh.type:ssh-ed25519" },
        { "os:Linux region:CA city:Austin isp:Comcast", "os:Linux region:CA city:Austin isp:Comcast" },

        // Networks.
        { "ip:192.0.2.1", "ip:192.0.2.1" },
        { "ip:192.0.2.77/24", "ip:192.0.2.0/24" },
        { "ip:192.0.2.1/32", "ip:192.0.2.1" },
        { "ip:0.0.0.0/0", "ip:0.0.0.0/0" },
        { "ip:192.0.2.1,198.51.100.0/24", "ip:192.0.2.1,198.51.100.0/24" },
        { "net:10.1.2.3/8", "net:10.0.0.0/8" },
        { "net:192.0.2.1/32", "net:192.0.2.1/32" },
        { "ip:::ffff:192.0.2.1", "ip:192.0.2.1" },
        { "ip:::ffff:10.9.8.7/104", "ip:10.0.0.0/8" },
        { "ip:::ffff:0:0/95", "ip:::fffe:0:0/95" },
        { "ip:2001:DB8::1", "ip:2001:db8::1" },
        { "net:2001:db8::1/32", "net:2001:db8::/32" },
        { "ip:::1", "ip:::1" },

        // Dates.
        { "before:31/12/2024", "before:2024-12-31" },
        { "before:1/2/2024", "before:2024-02-01" },
        { "after:2024-01-01", "after:2024-01-01" },
        { "after:2024-01-01T10:30Z", "after:2024-01-01T10:30:00Z" },
        { "after:2024-01-01T10:30:00Z", "after:2024-01-01T10:30:00Z" },
        { "after:2024-01-01T10:30:00", "after:2024-01-01T10:30:00Z" },
        { "after:2024-01-01T10:30:00+02:00", "after:2024-01-01T08:30:00Z" },
        { "after:2024-01-01T10:30:00.5Z", "after:2024-01-01T10:30:00.5Z" },
        { "after:2024-01-01T10:30:00.123456", "after:2024-01-01T10:30:00.123456Z" },

        // Unicode values.
        { "city:Zürich", "city:Zürich" },
        { "city:\"São Paulo\"", "city:\"São Paulo\"" },
        { "東京", "東京" },
        { "\"Müller GmbH\"", "\"Müller GmbH\"" },
        { "product:\"😀*\"", "product:😀*" },
        { "org:\"株式会社\u3000テスト\"", "org:\"株式会社 テスト\"" },
        { "apache\u00A0nginx", "apache nginx" },
    };

    [Theory]
    [MemberData(nameof(Canonical))]
    public void Parse_ValidQuery_GivesCanonicalText(string query, string canonical)
    {
        var parsed = QueryParser.Parse(query);

        Assert.Equal(canonical, parsed.Canonical);
        Assert.Equal(query, parsed.Text);
    }

    [Theory]
    [MemberData(nameof(Canonical))]
    public void Parse_CanonicalText_RoundTripsToEqualTree(string query, string canonical)
    {
        var parsed = QueryParser.Parse(query);
        var reparsed = QueryParser.Parse(canonical);

        Assert.Equal(parsed.Root, reparsed.Root);
        Assert.Equal(parsed.Root.GetHashCode(), reparsed.Root.GetHashCode());
        Assert.Equal(canonical, reparsed.Canonical);
    }

    [Theory]
    [MemberData(nameof(Canonical))]
    public void TryParse_ValidQuery_AgreesWithParse(string query, string canonical)
    {
        Assert.True(QueryParser.TryParse(query, out var parsed, out var error));
        Assert.Null(error);
        Assert.Equal(canonical, parsed.Canonical);
    }

    [Fact]
    public void Parse_EmptyQuery_IsMatchAll()
    {
        var parsed = QueryParser.Parse(" ");

        Assert.IsType<MatchAllNode>(parsed.Root);
        Assert.True(parsed.IsMatchAll);
        Assert.Empty(parsed.Filters);
        Assert.Empty(parsed.FreeTextTerms);
    }

    [Fact]
    public void Parse_SingleTerm_IsNotWrappedInAnd()
    {
        var node = Assert.IsType<FilterNode>(QueryParser.Parse("port:22").Root);

        Assert.Equal("port", node.Filter.Name);
        Assert.Equal(new IntegerValue(22), node.Value);
        Assert.Equal(new TextSpan(0, 7), node.Span);
        Assert.Equal(new TextSpan(5, 2), node.ValueSpan);
    }

    [Fact]
    public void Parse_SeveralTerms_AreAndedInOrder()
    {
        var and = Assert.IsType<AndNode>(QueryParser.Parse("apache port:80 -country:CN").Root);

        Assert.Equal(3, and.Terms.Count);
        Assert.Equal(new TextNode("apache", false, default), and.Terms[0]);
        Assert.IsType<FilterNode>(and.Terms[1]);
        var not = Assert.IsType<NotNode>(and.Terms[2]);
        var country = Assert.IsType<FilterNode>(not.Term);
        Assert.Equal(new KeywordValue("CN"), country.Value);
        Assert.Equal(new TextSpan(16, 10), country.Span);
    }

    [Fact]
    public void Parse_DuplicateFilters_AreAndedNotMerged()
    {
        var and = Assert.IsType<AndNode>(QueryParser.Parse("port:22 port:80").Root);

        Assert.All(and.Terms, t => Assert.IsType<FilterNode>(t));
        Assert.Equal(2, and.Terms.Count);
    }

    [Fact]
    public void Parse_CommaList_IsOrOfSameFilterWithValueSpans()
    {
        var or = Assert.IsType<OrNode>(QueryParser.Parse("port:22,80,443").Root);

        var values = or.Terms.Cast<FilterNode>().ToList();
        Assert.Equal([22L, 80L, 443L], values.Select(v => ((IntegerValue)v.Value).Value));
        Assert.All(values, v => Assert.Equal(new TextSpan(0, 14), v.Span));
        Assert.Equal([new TextSpan(5, 2), new TextSpan(8, 2), new TextSpan(11, 3)], values.Select(v => v.ValueSpan));
    }

    [Fact]
    public void Parse_QuotedCommaList_SplitsInsideQuotes()
    {
        var or = Assert.IsType<OrNode>(QueryParser.Parse("city:\"San Diego,Austin\"").Root);

        Assert.Equal(["San Diego", "Austin"], or.Terms.Cast<FilterNode>().Select(f => ((KeywordValue)f.Value).Value));
    }

    [Fact]
    public void Parse_EscapedComma_StaysInOneValue()
    {
        var node = Assert.IsType<FilterNode>(QueryParser.Parse(@"city:""Washington\, D.C.""").Root);

        Assert.Equal(new KeywordValue("Washington, D.C."), node.Value);
    }

    [Fact]
    public void Parse_NegatedFilter_IsNotNodeButNegativeHashIsValue()
    {
        var not = Assert.IsType<NotNode>(QueryParser.Parse("-hash:123").Root);
        var negativeValue = Assert.IsType<FilterNode>(QueryParser.Parse("hash:-123").Root);
        var both = Assert.IsType<NotNode>(QueryParser.Parse("-hash:-123").Root);

        Assert.Equal(new IntegerValue(123), Assert.IsType<FilterNode>(not.Term).Value);
        Assert.Equal(new IntegerValue(-123), negativeValue.Value);
        Assert.Equal(new IntegerValue(-123), Assert.IsType<FilterNode>(both.Term).Value);
    }

    [Fact]
    public void Parse_NegatedFreeText_IsNotOfText()
    {
        var not = Assert.IsType<NotNode>(QueryParser.Parse("-apache").Root);

        Assert.Equal(new TextNode("apache", false, default), not.Term);
        Assert.Equal(new TextSpan(1, 6), ((TextNode)not.Term).Span);
    }

    [Fact]
    public void Parse_QuotedFreeText_IsPhraseWithUnescapedText()
    {
        var text = Assert.IsType<TextNode>(QueryParser.Parse(@"""say \""hi\"" \\o/""").Root);

        Assert.True(text.Phrase);
        Assert.Equal(@"say ""hi"" \o/", text.Text);
        Assert.Equal(new TextSpan(0, 17), text.Span);
    }

    [Fact]
    public void Parse_QuotedWildcard_IsWildcardButEscapedIsLiteral()
    {
        var wildcard = Assert.IsType<FilterNode>(QueryParser.Parse("product:\"nginx*\"").Root);
        var literal = Assert.IsType<FilterNode>(QueryParser.Parse(@"product:""nginx\*""").Root);

        var glob = Assert.IsType<WildcardValue>(wildcard.Value).Pattern;
        Assert.True(glob.IsMatch("nginx/1.25"));
        Assert.Equal(new KeywordValue("nginx*"), literal.Value);
    }

    [Fact]
    public void Parse_TextFilter_GivesPhraseValueWithCollapsedWhitespace()
    {
        var node = Assert.IsType<FilterNode>(QueryParser.Parse("http.title:\"  Index   of / \"").Root);

        Assert.Equal(new PhraseValue("Index of /"), node.Value);
    }

    [Fact]
    public void Parse_UnicodeValues_KeepTextAndCountUtf16Positions()
    {
        var and = Assert.IsType<AndNode>(QueryParser.Parse("𠀀 city:Zürich").Root);

        var city = Assert.IsType<FilterNode>(and.Terms[1]);
        Assert.Equal(new KeywordValue("Zürich"), city.Value);
        Assert.Equal(new TextSpan(3, 11), city.Span);
    }

    [Fact]
    public void Parse_NetworkValue_IsNormalized()
    {
        var node = Assert.IsType<FilterNode>(QueryParser.Parse("net:192.0.2.200/25").Root);

        var network = Assert.IsType<NetworkValue>(node.Value);
        Assert.Equal(System.Net.IPAddress.Parse("192.0.2.128"), network.Network);
        Assert.Equal(25, network.PrefixLength);
        Assert.True(network.Contains(System.Net.IPAddress.Parse("192.0.2.129")));
        Assert.True(network.Contains(System.Net.IPAddress.Parse("::ffff:192.0.2.255")));
        Assert.False(network.Contains(System.Net.IPAddress.Parse("192.0.2.127")));
    }

    [Fact]
    public void Parse_DateValue_IsUtc()
    {
        var node = Assert.IsType<FilterNode>(QueryParser.Parse("after:2024-01-01T10:30:00+02:00").Root);

        var date = Assert.IsType<DateValue>(node.Value);
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 8, 30, 0, TimeSpan.Zero), date.Value);
        Assert.Equal(TimeSpan.Zero, date.Value.Offset);
        Assert.Equal(FilterComparison.GreaterThan, node.Filter.Comparison);
    }
}
