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
}
