using ExposureIndex.Storage.Embedded.Index;

namespace ExposureIndex.Storage.Tests.Embedded;

public sealed class UInt64MapTests
{
    [Fact]
    public void GetOrAdd_ManyKeysThroughSeveralGrowths_AgreesWithDictionary()
    {
        var map = new UInt64Map<long>();
        var oracle = new Dictionary<ulong, long>();
        var random = new Random(11);
        for (var i = 0; i < 200_000; i++)
        {
            // A small key space forces repeats; key 0 (the empty-slot marker) must still work.
            var key = i % 50 == 0 ? 0UL : (ulong)random.NextInt64(0, 120_000) * 0x100000001UL;
            ref var value = ref map.GetOrAdd(key, out var exists);
            Assert.Equal(oracle.ContainsKey(key), exists);
            value += i;
            oracle[key] = oracle.GetValueOrDefault(key) + i;
        }

        Assert.Equal(oracle.Count, map.Count);
        foreach (var (key, expected) in oracle)
        {
            Assert.True(map.TryGetValue(key, out var actual));
            Assert.Equal(expected, actual);
        }

        Assert.False(map.TryGetValue(0xDEADBEEFCAFEUL, out _));
    }
}
