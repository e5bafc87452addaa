using System.Text;
using System.Text.RegularExpressions;
using ExposureIndex.Query;
using ExposureIndex.SearchApi.Ui;

namespace ExposureIndex.SearchApi.Tests.Ui;

/// <summary>Checks of what the UI's files say, against the real query language and the UI's own rules.</summary>
public sealed partial class UiContentTests
{
    private static string Text(string name)
    {
        Assert.True(UiAssetCatalog.Embedded.TryGet(name, out var asset), name);
        return Encoding.UTF8.GetString(asset.Identity);
    }

    /// <summary>The UI's scripts with comments removed (comments may name what the code must not do).</summary>
    private static IEnumerable<(string Name, string Text)> Scripts()
        => UiAssetCatalog.Embedded.Names.Where(n => n.EndsWith(".js", StringComparison.Ordinal))
            .Select(n => (n, LineComment().Replace(BlockComment().Replace(Text(n), string.Empty), string.Empty)));

    [Fact]
    public void Examples_EveryQuery_ParsesWithTheRealParser()
    {
        var examples = ExampleLine().Matches(Text("examples.js")).Select(m => m.Groups["q"].Value).ToList();
        Assert.True(examples.Count >= 5, $"found {examples.Count} examples");
        foreach (var example in examples)
        {
            Assert.True(QueryParser.TryParse(example, out _, out var error), $"example '{example}': {error?.Message}");
        }
    }

    [Theory]
    [InlineData("SEARCH_FACETS")]
    [InlineData("OVERVIEW_FACETS")]
    public void FacetLists_AreValidFacetsOfFacetableFilters(string constant)
    {
        var match = Regex.Match(Text("examples.js"), $"export const {constant} = '(?<f>[^']+)';");
        Assert.True(match.Success, constant);
        var facets = FacetParser.Parse(match.Groups["f"].Value);
        Assert.NotEmpty(facets);
        Assert.All(facets, f => Assert.True(f.Field.Facetable, f.Field.Name));
    }

    [Fact]
    public void Scripts_NeverUseHtmlParsingSinksOrEval()
    {
        // Trusted Types (CSP) would make these throw at run time; this finds them before a user does.
        string[] sinks = ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setTimeout('", "setTimeout(\"", "createContextualFragment", "DOMParser"];
        foreach (var (name, text) in Scripts())
        {
            foreach (var sink in sinks)
            {
                Assert.False(text.Contains(sink, StringComparison.Ordinal), $"{name} uses {sink}");
            }
        }
    }

    [Fact]
    public void Assets_ReferNoOtherOrigin()
    {
        // Works offline: no CDN, no web font, no analytics. The SVG namespace is a name, not a fetch.
        foreach (var name in UiAssetCatalog.Embedded.Names.Append("index.html"))
        {
            var text = name == "index.html" ? Encoding.UTF8.GetString(UiAssetCatalog.Embedded.Index.Identity) : Text(name);
            var stripped = text.Replace("http://www.w3.org/2000/svg", string.Empty, StringComparison.Ordinal);
            Assert.False(ExternalUrl().IsMatch(stripped), $"{name} refers to another origin: {ExternalUrl().Match(stripped).Value}");
            Assert.DoesNotContain("@import", stripped, StringComparison.Ordinal);
            Assert.DoesNotContain("@font-face", stripped, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Scripts_ImportOnlyModulesThatExist()
    {
        foreach (var (name, text) in Scripts())
        {
            foreach (Match import in ImportFrom().Matches(text))
            {
                var target = import.Groups["m"].Value;
                Assert.True(UiAssetCatalog.Embedded.TryGet(target, out _), $"{name} imports ./{target}, which is not an asset");
            }
        }
    }

    [Fact]
    public void ApiClient_SendsTheKeyInAHeaderNeverInTheUrl()
    {
        var api = Text("api.js");
        Assert.Contains("'X-Api-Key': key", api, StringComparison.Ordinal);
        foreach (var (name, text) in Scripts())
        {
            Assert.False(text.Contains("key=", StringComparison.Ordinal) || text.Contains("searchParams.set('key'", StringComparison.Ordinal), $"{name} puts the key in a URL");
        }
    }

    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex BlockComment();

    [GeneratedRegex(@"(?:^|\s)//.*$", RegexOptions.Multiline)]
    private static partial Regex LineComment();

    [GeneratedRegex(@"^\s*\['(?<q>[^']+)', '[^']+'\],\s*$", RegexOptions.Multiline)]
    private static partial Regex ExampleLine();

    [GeneratedRegex(@"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalUrl();

    [GeneratedRegex(@"from '\./(?<m>[^']+)'")]
    private static partial Regex ImportFrom();
}
