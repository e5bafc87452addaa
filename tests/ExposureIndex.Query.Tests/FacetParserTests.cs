using ExposureIndex.Query;

namespace ExposureIndex.Query.Tests;

public sealed class FacetParserTests
{
    [Fact]
    public void Parse_ShodanExample_GivesFieldsAndSizes()
    {
        var facets = FacetParser.Parse("product:10,country");

        Assert.Equal(2, facets.Count);
        Assert.Equal("product", facets[0].Field.Name);
        Assert.Equal(10, facets[0].Size);
        Assert.Equal("country", facets[1].Field.Name);
        Assert.Equal(FacetParser.DefaultSize, facets[1].Size);
        Assert.Equal("product:10,country:5", FacetParser.Format(facets));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("   ", "")]
    [InlineData("ORG", "org:5")]
    [InlineData(" org : 3 ,  port:1000 ", "org:3,port:1000")]
    [InlineData("http.favicon.hash:50,ssl.cert.issuer.cn", "http.favicon.hash:50,ssl.cert.issuer.cn:5")]
    [InlineData("port:0001", "port:1")]
    public void Parse_Valid_GivesCanonicalList(string text, string canonical)
    {
        Assert.Equal(canonical, FacetParser.Format(FacetParser.Parse(text)));
    }

    [Theory]
    [InlineData("prodcut", "unknown facet 'prodcut' at position 0 (did you mean 'product'?)", 0, 7)]
    [InlineData("org,xyzzy:3", "unknown facet 'xyzzy' at position 4", 4, 5)]
    [InlineData("ip", "filter 'ip' at position 0 cannot be used as a facet", 0, 2)]
    [InlineData("port, hostname", "filter 'hostname' at position 6 cannot be used as a facet", 6, 8)]
    [InlineData("product:0", "invalid size '0' for facet 'product' at position 8: expected an integer between 1 and 1000", 8, 1)]
    [InlineData("product:1001", "invalid size '1001' for facet 'product' at position 8: expected an integer between 1 and 1000", 8, 4)]
    [InlineData("product:ten", "invalid size 'ten' for facet 'product' at position 8: expected an integer between 1 and 1000", 8, 3)]
    [InlineData("product:-5", "invalid size '-5' for facet 'product' at position 8: expected an integer between 1 and 1000", 8, 2)]
    [InlineData("product:", "invalid size '' for facet 'product' at position 8: expected an integer between 1 and 1000", 8, 0)]
    [InlineData("product:99999999999", "invalid size '99999999999' for facet 'product' at position 8: expected an integer between 1 and 1000", 8, 11)]
    [InlineData("org,,port", "empty facet at position 4", 4, 0)]
    [InlineData("org,", "empty facet at position 4", 4, 0)]
    [InlineData("org,Org:3", "duplicate facet 'org' at position 4", 4, 3)]
    [InlineData("org\u0001", "control character U+0001 at position 3", 3, 1)]
    public void Parse_Invalid_ThrowsWithPosition(string text, string message, int position, int length)
    {
        var error = Assert.Throws<QueryException>(() => FacetParser.Parse(text)).Error;

        Assert.Equal(message, error.Message);
        Assert.Equal(position, error.Position);
        Assert.Equal(length, error.Length);
        Assert.False(FacetParser.TryParse(text, out var facets, out var tried));
        Assert.Null(facets);
        Assert.Equal(error, tried);
    }

    [Fact]
    public void Parse_TooManyFacets_FailsAtFirstExtra()
    {
        var names = FilterCatalog.Default.FacetNames.Take(FacetParser.MaxFacets + 1).ToList();
        var prefix = string.Join(',', names.Take(FacetParser.MaxFacets)) + ",";

        var error = Assert.Throws<QueryException>(() => FacetParser.Parse(prefix + names[^1])).Error;

        Assert.Equal($"too many facets at position {prefix.Length} (limit {FacetParser.MaxFacets})", error.Message);
        Assert.Equal(prefix.Length, error.Position);
    }

    [Fact]
    public void Parse_EveryFacetableFilter_IsAccepted()
    {
        foreach (var name in FilterCatalog.Default.FacetNames)
        {
            Assert.Equal(name, Assert.Single(FacetParser.Parse(name + ":7")).Field.Name);
        }
    }

    [Fact]
    public void FacetRequest_NonFacetableOrBadSize_Throws()
    {
        Assert.True(FilterCatalog.Default.TryGet("ip", out var ip));
        Assert.True(FilterCatalog.Default.TryGet("port", out var port));

        Assert.Throws<ArgumentException>(() => new FacetRequest(ip, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FacetRequest(port, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FacetRequest(port, 1001));
    }
}
