using ExposureIndex.Query;

namespace ExposureIndex.Query.Tests;

public sealed class QueryLimitsTests
{
    [Fact]
    public void Parse_QueryAtLengthLimit_Succeeds()
    {
        var query = "port:22 " + new string('a', QueryLimits.MaxQueryLength - 8);

        var parsed = QueryParser.Parse(query);

        Assert.Equal(QueryLimits.MaxQueryLength, query.Length);
        Assert.Equal(2, Assert.IsType<AndNode>(parsed.Root).Terms.Count);
    }

    [Fact]
    public void Parse_QueryOverLengthLimit_FailsAtLimit()
    {
        var query = new string('a', QueryLimits.MaxQueryLength + 10);

        var error = Assert.Throws<QueryException>(() => QueryParser.Parse(query)).Error;

        Assert.Equal("query is too long at position 4096: 4106 characters (limit 4096)", error.Message);
        Assert.Equal(4096, error.Position);
        Assert.Equal(10, error.Length);
    }

    [Fact]
    public void Parse_TermsAtLimit_Succeeds()
    {
        var query = string.Join(' ', Enumerable.Range(0, QueryLimits.MaxTerms).Select(i => $"port:{i}"));

        var parsed = QueryParser.Parse(query);

        Assert.Equal(QueryLimits.MaxTerms, Assert.IsType<AndNode>(parsed.Root).Terms.Count);
    }

    [Fact]
    public void Parse_TermsOverLimit_FailsAtFirstExtraTerm()
    {
        var terms = Enumerable.Range(0, QueryLimits.MaxTerms).Select(i => $"w{i}").ToList();
        var prefix = string.Join(' ', terms) + " ";
        var query = prefix + "-extra more";

        var error = Assert.Throws<QueryException>(() => QueryParser.Parse(query)).Error;

        Assert.Equal($"too many terms at position {prefix.Length} (limit 64)", error.Message);
        Assert.Equal(prefix.Length, error.Position);
        Assert.Equal(1, error.Length);
    }

    [Fact]
    public void Parse_ListAtLimit_Succeeds()
    {
        var query = "port:" + string.Join(',', Enumerable.Range(1, QueryLimits.MaxListValues));

        var parsed = QueryParser.Parse(query);

        Assert.Equal(QueryLimits.MaxListValues, Assert.IsType<OrNode>(parsed.Root).Terms.Count);
    }

    [Fact]
    public void Parse_ListOverLimit_FailsAtFirstExtraValue()
    {
        var prefix = "port:" + string.Join(',', Enumerable.Range(1, QueryLimits.MaxListValues)) + ",";
        var query = prefix + "999,1000";

        var error = Assert.Throws<QueryException>(() => QueryParser.Parse(query)).Error;

        Assert.Equal($"too many values for filter 'port' at position {prefix.Length} (limit 256)", error.Message);
        Assert.Equal(prefix.Length, error.Position);
        Assert.Equal("port", error.Filter);
    }

    [Fact]
    public void Parse_EightWildcards_Succeeds()
    {
        var parsed = QueryParser.Parse("product:?a*b*c*d*e*f*g*");

        var value = Assert.IsType<WildcardValue>(Assert.IsType<FilterNode>(parsed.Root).Value);
        Assert.Equal(8, value.Pattern.WildcardCount);
    }

    [Fact]
    public void Parse_EscapedWildcards_DoNotCount()
    {
        var parsed = QueryParser.Parse(@"product:""\*\*\*\*\*\*\*\*\*\*a*""");

        var value = Assert.IsType<WildcardValue>(Assert.IsType<FilterNode>(parsed.Root).Value);
        Assert.Equal(1, value.Pattern.WildcardCount);
        Assert.True(value.Pattern.IsMatch("**********abc"));
        Assert.False(value.Pattern.IsMatch("*********xabc"));
    }

    [Fact]
    public void Parse_LargestQueryOfLists_StaysWithinNodeBounds()
    {
        // 4096 characters of one-digit list items: the node count is bounded by the text, not amplified.
        var query = "port:" + string.Join(',', Enumerable.Repeat("1", 256)) + " " + string.Join(' ', Enumerable.Repeat("a", 63));

        var parsed = QueryParser.Parse(query);

        var and = Assert.IsType<AndNode>(parsed.Root);
        Assert.Equal(64, and.Terms.Count);
        Assert.Equal(256, Assert.IsType<OrNode>(and.Terms[0]).Terms.Count);
    }
}
