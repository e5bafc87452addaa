using ExposureIndex.Rpc.Core;

namespace ExposureIndex.Rpc.Tests.Core;

public sealed class MetadataTests
{
    [Fact]
    public void Add_UppercaseKey_IsLowercased()
    {
        var metadata = new Metadata().Add("X-Trace", "abc");
        Assert.Equal("x-trace", metadata[0].Key);
        Assert.Equal("abc", metadata.GetValue("x-trace"));
    }

    [Theory]
    [InlineData("grpc-status")]
    [InlineData("grpc-custom")]
    [InlineData(":path")]
    [InlineData("content-type")]
    [InlineData("te")]
    [InlineData("connection")]
    public void Add_ReservedKey_Throws(string key)
    {
        Assert.Throws<ArgumentException>(() => new Metadata().Add(key, "v"));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("slash/")]
    [InlineData("ümlaut")]
    public void Add_InvalidKey_Throws(string key)
    {
        Assert.Throws<ArgumentException>(() => new Metadata().Add(key, "v"));
    }

    [Fact]
    public void Add_NonAsciiValue_ThrowsNamingTheCharacter()
    {
        var error = Assert.Throws<ArgumentException>(() => new Metadata().Add("x-name", "Zoë"));
        Assert.Contains("U+00EB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_BinaryRules_AreEnforcedBothWays()
    {
        Assert.Throws<ArgumentException>(() => new Metadata().Add("x-data-bin", "text"));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("x-data", new byte[] { 1 }));
        var metadata = new Metadata().Add("x-data-bin", new byte[] { 0xff, 0x00, 0x10 });
        Assert.True(metadata[0].IsBinary);
        Assert.Equal("/wAQ", metadata[0].Value);
    }

    [Fact]
    public void AddReceived_BinaryValue_AcceptsPaddedUnpaddedAndCommaJoined()
    {
        var metadata = new Metadata();
        metadata.AddReceived("x-a-bin", "AQI");
        metadata.AddReceived("x-b-bin", "AQI=");
        metadata.AddReceived("x-c-bin", "AQ, AgM");
        Assert.Equal(new byte[] { 1, 2 }, metadata.GetValueBytes("x-a-bin"));
        Assert.Equal(new byte[] { 1, 2 }, metadata.GetValueBytes("x-b-bin"));
        Assert.Equal([new byte[] { 1 }, new byte[] { 2, 3 }], metadata.GetAll("x-c-bin").Select(e => e.ValueBytes).ToArray());
    }

    [Fact]
    public void AddReceived_ReservedHeader_IsSkipped()
    {
        var metadata = new Metadata();
        metadata.AddReceived("grpc-status", "0");
        metadata.AddReceived("content-type", "application/grpc");
        metadata.AddReceived("x-kept", "yes");
        Assert.Equal("x-kept", Assert.Single(metadata).Key);
    }
}
