using System.Net;
using ExposureIndex.Query;

namespace ExposureIndex.Query.Tests;

public sealed class AstTests
{
    private static FilterDefinition Filter(string name)
    {
        Assert.True(FilterCatalog.Default.TryGet(name, out var definition));
        return definition;
    }

    [Fact]
    public void Equals_SameQueryWithDifferentSpacing_IsEqualDespiteSpans()
    {
        var a = QueryParser.Parse("port:22   country:US  apache");
        var b = QueryParser.Parse("port:22 country:us apache");

        Assert.Equal(a.Root, b.Root);
        Assert.NotEqual(a, b);
        Assert.Equal(a, QueryParser.Parse("port:22   country:US  apache"));
    }

    [Fact]
    public void Equals_DifferentOrder_IsNotEqual()
    {
        Assert.NotEqual(QueryParser.Parse("port:22 apache").Root, QueryParser.Parse("apache port:22").Root);
    }

    [Fact]
    public void Equals_WordVersusPhrase_IsNotEqual()
    {
        Assert.NotEqual(QueryParser.Parse("apache").Root, QueryParser.Parse("\"apache\"").Root);
    }

    [Fact]
    public void FilterNode_ValueOfWrongKind_Throws()
    {
        Assert.Throws<ArgumentException>(() => new FilterNode(Filter("port"), new KeywordValue("22"), default));
        Assert.Throws<ArgumentException>(() => new FilterNode(Filter("port"), new IntegerValue(70000), default));
        Assert.Throws<ArgumentException>(() => new FilterNode(Filter("country"), new WildcardValue(GlobPattern.Parse("U*")), default));
        Assert.Throws<ArgumentException>(() => new FilterNode(Filter("org"), new KeywordValue("x"), default));
    }

    [Fact]
    public void FilterNode_BuiltByHand_EqualsParsed()
    {
        var built = new FilterNode(Filter("port"), new IntegerValue(22), default);

        Assert.Equal(QueryParser.Parse("port:22").Root, built);
    }

    [Fact]
    public void Composite_EmptyOrNullTerms_Throw()
    {
        Assert.Throws<ArgumentException>(() => new AndNode([]));
        Assert.Throws<ArgumentException>(() => new OrNode([null!]));
        Assert.Throws<ArgumentNullException>(() => new NotNode(null!));
    }

    [Fact]
    public void Composite_TermsAreCopied_SoCallerMutationDoesNotLeak()
    {
        var terms = new List<QueryNode> { new TextNode("a", false, default), new TextNode("b", false, default) };
        var and = new AndNode(terms);

        terms.Add(new TextNode("c", false, default));

        Assert.Equal(2, and.Terms.Count);
    }

    [Fact]
    public void AndAll_FlattensAndDropsMatchAll()
    {
        var user = QueryParser.Parse("apache port:80").Root;
        var scope = QueryParser.Parse("country:US").Root;

        var combined = QueryNode.AndAll([user, MatchAllNode.Instance, scope]);

        Assert.Equal(QueryParser.Parse("apache port:80 country:US").Root, combined);
        Assert.Same(MatchAllNode.Instance, QueryNode.AndAll([MatchAllNode.Instance]));
        Assert.Same(scope, QueryNode.AndAll([MatchAllNode.Instance, scope]));
    }

    [Fact]
    public void ToString_NonParserTree_PrintsNotationTheParserRejects()
    {
        var port = new FilterNode(Filter("port"), new IntegerValue(22), default);
        var country = new FilterNode(Filter("country"), new KeywordValue("US"), default);
        var tree = new AndNode([new OrNode([port, country]), new NotNode(new AndNode([port, country])), new NotNode(MatchAllNode.Instance)]);

        var text = tree.ToString();

        Assert.Equal("{or: port:22 country:US} -{and: port:22 country:US} -{all:}", text);
        Assert.Throws<QueryException>(() => QueryParser.Parse(text));
    }

    [Fact]
    public void ToString_ValueLists_MixedNegation()
    {
        var port = new FilterNode(Filter("port"), new IntegerValue(22), default);
        var tree = new OrNode([port, new NotNode(port)]);

        Assert.Equal("{or: port:22 -port:22}", tree.ToString());
    }

    [Fact]
    public void FilterValue_ToString_IsQueryValueSyntax()
    {
        Assert.Equal("\"a b\"", new KeywordValue("a b").ToString());
        Assert.Equal(@"""a\,b\*""", new KeywordValue("a,b*").ToString());
        Assert.Equal("nginx*", new WildcardValue(GlobPattern.Parse("nginx*")).ToString());
        Assert.Equal("-5", new IntegerValue(-5).ToString());
        Assert.Equal("192.0.2.0/24", NetworkValue.Create(IPAddress.Parse("192.0.2.9"), 24).ToString());
        Assert.Equal("2024-05-06", new DateValue(new DateTimeOffset(2024, 5, 6, 0, 0, 0, TimeSpan.Zero)).ToString());
        Assert.Equal("true", new BooleanValue(true).ToString());
    }

    [Fact]
    public void NetworkValue_NotNormalized_Throws()
    {
        Assert.Throws<ArgumentException>(() => new NetworkValue(IPAddress.Parse("192.0.2.1"), 24));
        Assert.Throws<ArgumentException>(() => new NetworkValue(IPAddress.Parse("::ffff:192.0.2.0"), 120));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkValue(IPAddress.Parse("192.0.2.0"), 33));
    }

    [Fact]
    public void NetworkValue_Create_UnwrapsMappedAndZeroesHostBits()
    {
        var value = NetworkValue.Create(IPAddress.Parse("::ffff:10.1.2.3"), 104);

        Assert.Equal(new NetworkValue(IPAddress.Parse("10.0.0.0"), 8), value);
        Assert.Equal("10.0.0.0/8", value.ToCidrString());
    }

    [Fact]
    public void NetworkValue_Create_DropsScopeId()
    {
        var value = NetworkValue.Create(IPAddress.Parse("fe80::1%5"), 128);

        Assert.Equal(0, value.Network.ScopeId);
        Assert.True(value.Contains(IPAddress.Parse("fe80::1")));
        Assert.False(value.Contains(IPAddress.Parse("10.0.0.1")));
    }

    [Fact]
    public void DateValue_EqualInstantsWithDifferentOffsets_AreEqual()
    {
        var utc = new DateValue(new DateTimeOffset(2024, 1, 1, 8, 0, 0, TimeSpan.Zero));
        var plusTwo = new DateValue(new DateTimeOffset(2024, 1, 1, 10, 0, 0, TimeSpan.FromHours(2)));

        Assert.Equal(utc, plusTwo);
        Assert.Equal(TimeSpan.Zero, plusTwo.Value.Offset);
    }

    [Fact]
    public void ParsedQuery_Summary_DoesNotAffectEquality()
    {
        var a = QueryParser.Parse("port:22 apache");
        var b = QueryParser.Parse("port:22 apache");

        _ = a.Ports;
        _ = a.FreeText;

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }
}
