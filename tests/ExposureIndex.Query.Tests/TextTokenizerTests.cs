using ExposureIndex.Query;

namespace ExposureIndex.Query.Tests;

public sealed class TextTokenizerTests
{
    [Theory]
    [InlineData("", new string[0])]
    [InlineData("Apache httpd", new[] { "apache", "httpd" })]
    [InlineData("nginx/1.25.3", new[] { "nginx", "1", "25", "3" })]
    [InlineData("  --SSH-2.0-OpenSSH_9.2p1--  ", new[] { "ssh", "2", "0", "openssh", "9", "2p1" })]
    [InlineData("Zürich São_Paulo", new[] { "zürich", "são", "paulo" })]
    [InlineData("東京タワー!", new[] { "東京タワー" })]
    [InlineData("Cafe\u0301 ok", new[] { "cafe\u0301", "ok" })]
    [InlineData("a😀b", new[] { "a", "b" })]
    public void Tokenize_SplitsOnNonWordCharactersAndLowerCases(string text, string[] expected)
    {
        Assert.Equal(expected, TextTokenizer.Tokenize(text));
        Assert.Equal(expected.Length > 0, TextTokenizer.HasWord(text));
    }

    [Fact]
    public void Tokenize_UnpairedSurrogate_Separates()
    {
        Assert.Equal(["a", "b"], TextTokenizer.Tokenize("a\uD800b"));
    }

    [Fact]
    public void Words_OfParsedTerms_UseTheTokenizer()
    {
        var and = Assert.IsType<AndNode>(QueryParser.Parse("\"Index of /\" http.title:\"Welcome to nginx!\"").Root);

        Assert.Equal(["index", "of"], Assert.IsType<TextNode>(and.Terms[0]).Words);
        Assert.Equal(["welcome", "to", "nginx"], Assert.IsType<PhraseValue>(Assert.IsType<FilterNode>(and.Terms[1]).Value).Words);
    }
}
