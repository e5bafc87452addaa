using ExposureIndex.Crawler.Publishing;

namespace ExposureIndex.Crawler.Tests.Publishing;

public sealed class TornLineTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"exposure-torn-{Guid.NewGuid():N}.ndjson");

    public void Dispose() => File.Delete(_path);

    [Theory]
    [InlineData("{\"a\":1}\n{\"b\":2}\n{\"c\":", "{\"a\":1}\n{\"b\":2}\n", 5)]
    [InlineData("{\"a\":1}\n", "{\"a\":1}\n", 0)]
    [InlineData("{\"torn", "", 6)]
    [InlineData("", "", 0)]
    public void TrimTornLine_CutsOnlyAnUnfinishedLastLine(string contents, string expected, long cut)
    {
        File.WriteAllText(_path, contents);
        Assert.Equal(cut, NdjsonFileSink.TrimTornLine(_path));
        Assert.Equal(expected, File.ReadAllText(_path));
    }

    [Fact]
    public void TrimTornLine_LongLastLine_WalksBackOverSeveralChunks()
    {
        var torn = new string('x', 200_000);
        File.WriteAllText(_path, "{\"a\":1}\n" + torn);
        Assert.Equal(torn.Length, NdjsonFileSink.TrimTornLine(_path));
        Assert.Equal("{\"a\":1}\n", File.ReadAllText(_path));
    }

    [Fact]
    public async Task Open_Append_ContinuesOnALineOfItsOwn()
    {
        File.WriteAllText(_path, "{\"ip_str\":\"1\"}\n{\"ip_str\":\"2\"");
        await using (var sink = NdjsonFileSink.Open(_path, append: true))
        {
            await sink.WriteAsync([new Contracts.V1.ServiceRecord { Ip = "192.0.2.9", Port = 80 }], TestContext.Current.CancellationToken);
            await sink.CompleteAsync(TestContext.Current.CancellationToken);
        }

        var lines = File.ReadAllLines(_path);
        Assert.Equal(2, lines.Length);
        Assert.Equal("{\"ip_str\":\"1\"}", lines[0]);
        Assert.Contains("192.0.2.9", lines[1], StringComparison.Ordinal);
    }
}
