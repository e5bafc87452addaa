using ExposureIndex.Storage.Embedded.Index;

namespace ExposureIndex.Storage.Tests.Embedded;

public sealed class ValueDictionaryTests
{
    [Fact]
    public void GetOrAdd_EveryCasingIsFoundIgnoringCase_AndEachKeepsItsOwnId()
    {
        var values = new ValueDictionary();
        var nginx = values.GetOrAdd("nginx");
        var upper = values.GetOrAdd("NGINX");
        var apache = values.GetOrAdd("Apache httpd");
        var mixed = values.GetOrAdd("Nginx");

        Assert.Equal(0, values.GetOrAdd(null));
        Assert.Equal(0, values.GetOrAdd(string.Empty));
        Assert.Equal(nginx, values.GetOrAdd("nginx"));
        Assert.Equal(5, values.Count);
        Assert.Equal([nginx, upper, mixed], values.FindIgnoreCase("nGiNx").Order());
        Assert.Equal([apache], values.FindIgnoreCase("APACHE HTTPD"));
        Assert.Empty(values.FindIgnoreCase("lighttpd"));
        Assert.True(values.TryFindExact("NGINX", out var id) && id == upper);
        Assert.False(values.TryFindExact("nGiNx", out _));
        Assert.Equal("Nginx", values[mixed]);
    }

    [Fact]
    public void FindIgnoreCase_AgreesWithOrdinalIgnoreCaseComparison_ForPlainMixedAndNonAsciiValues()
    {
        // Plain (lower-case ASCII) values are found through the exact map, others through the folded chain; both
        // must give what a brute-force OrdinalIgnoreCase comparison gives, including non-ASCII letters that fold
        // to ASCII ones (dotless i, long s, Kelvin sign).
        string[] stored = ["size", "SIZE", "Size", "istanbul", "\u0131stanbul", "ISTANBUL", "kelvin", "\u212Aelvin", "caf\u00e9", "CAF\u00c9", "www.example.com", "WWW.example.COM", "\u017Fize"];
        string[] queries = ["size", "SiZe", "\u017Fize", "\u017FIZE", "istanbul", "\u0131STANBUL", "\u0130stanbul", "KELVIN", "\u212Aelvin", "caf\u00c9", "CAFE", "www.EXAMPLE.com", "absent", "\u00e9"];
        var values = new ValueDictionary();
        foreach (var value in stored)
        {
            values.GetOrAdd(value);
        }

        foreach (var query in queries)
        {
            var expected = Enumerable.Range(1, values.Count - 1).Where(id => string.Equals(values[id], query, StringComparison.OrdinalIgnoreCase)).ToList();
            Assert.Equal(expected, values.FindIgnoreCase(query).Order().ToList());
        }
    }
}
