using ExposureIndex.Crawler.Engine;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Tests.Engine;

public sealed class WorkSourceTests
{
    private static ScanSpace Space(string targets, string ports)
    {
        var errors = new List<SpecError>();
        var entries = TargetParser.Parse([targets], errors);
        var spec = PortSpecParser.Parse(ports, "ports", errors);
        Assert.Empty(errors);
        return new ScanSpace(TargetSet.From(entries.Select(e => e.Range)), spec!.Tcp);
    }

    [Fact]
    public void ScanSpace_Index_VisitsEveryHostBeforeTheNextPort()
    {
        var space = Space("8.8.8.8-10", "22,80");
        Assert.Equal(6UL, space.Count);
        string[] expected = ["8.8.8.8:22", "8.8.8.9:22", "8.8.8.10:22", "8.8.8.8:80", "8.8.8.9:80", "8.8.8.10:80"];
        Assert.Equal(expected, Enumerable.Range(0, 6).Select(i => space[(ulong)i].ToString()));
    }

    [Fact]
    public async Task SequentialWorkSource_ManyTakers_HandOutEachTargetOnce()
    {
        var source = new SequentialWorkSource(Space("8.8.8.0/24 2606:4700::1-2606:4700::4", "1-50"));
        var taken = new System.Collections.Concurrent.ConcurrentBag<string>();
        var takers = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            while (source.TryTake(out var target))
            {
                taken.Add(target.ToString());
            }
        }, TestContext.Current.CancellationToken));
        await Task.WhenAll(takers).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(260 * 50, taken.Count);
        Assert.Equal(taken.Count, taken.Distinct().Count());
        Assert.Contains("[2606:4700::4]:50", taken);
        Assert.Equal(source.Count, source.Taken);
        Assert.False(source.TryTake(out _));
        Assert.Equal(source.Count, source.Taken);
    }
}
