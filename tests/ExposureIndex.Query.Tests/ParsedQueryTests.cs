using ExposureIndex.Query;

namespace ExposureIndex.Query.Tests;

/// <summary>What <c>/shodan/host/search/tokens</c> reports: ports, free-text string and filter names.</summary>
public sealed class ParsedQueryTests
{
    [Fact]
    public void Tokens_ShodanExample_GivesPortsStringAndFilters()
    {
        var parsed = QueryParser.Parse("Raspbian port:22");

        Assert.Equal([22], parsed.Ports);
        Assert.Equal("Raspbian", parsed.FreeText);
        Assert.Equal(["port"], parsed.FilterNames);
    }

    [Fact]
    public void Tokens_MixedQuery_ListsDistinctFiltersInOrder()
    {
        var parsed = QueryParser.Parse("apache country:US port:80,443 -port:22 port:80 \"default page\" -nginx city:Austin");

        Assert.Equal(["country", "port", "city"], parsed.FilterNames);
        Assert.Equal([80, 443], parsed.Ports);
        Assert.Equal("apache \"default page\" -nginx", parsed.FreeText);
        Assert.Equal(3, parsed.FreeTextTerms.Count);
        Assert.IsType<NotNode>(parsed.FreeTextTerms[2]);
        Assert.Same(parsed.Filters[0], FilterCatalog.Default.Filters.Single(f => f.Name == "country"));
    }

    [Fact]
    public void Tokens_OnlyNegatedPorts_GivesNoPorts()
    {
        var parsed = QueryParser.Parse("-port:22,23");

        Assert.Empty(parsed.Ports);
        Assert.Equal(["port"], parsed.FilterNames);
        Assert.Equal(string.Empty, parsed.FreeText);
    }

    [Fact]
    public void Tokens_HandBuiltDoubleNegation_CountsPortAsWanted()
    {
        var port = QueryParser.Parse("port:8080").Root;

        var parsed = new ParsedQuery(new NotNode(new NotNode(port)), "(built)");

        Assert.Equal([8080], parsed.Ports);
    }

    [Fact]
    public void Tokens_EmptyQuery_IsEmpty()
    {
        var parsed = QueryParser.Parse("");

        Assert.Empty(parsed.Ports);
        Assert.Empty(parsed.FilterNames);
        Assert.Equal(string.Empty, parsed.FreeText);
        Assert.Equal(string.Empty, parsed.Canonical);
    }
}
