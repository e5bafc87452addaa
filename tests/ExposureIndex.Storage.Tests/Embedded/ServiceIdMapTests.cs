using ExposureIndex.Contracts.V1;
using ExposureIndex.Storage.Embedded;

namespace ExposureIndex.Storage.Tests.Embedded;

public sealed class ServiceIdMapTests
{
    [Fact]
    public void GetValueRefOrAddDefault_ManyKeysThroughSeveralGrowths_AgreesWithDictionary()
    {
        var map = new ServiceIdMap();
        var oracle = new Dictionary<ServiceId, int>();
        var random = new Random(5);
        for (var i = 0; i < 150_000; i++)
        {
            // IPv4-mapped and IPv6 addresses, a few ports and both transports, whole-address keys (port 0) among
            // them, and a small address space so that keys repeat.
            UInt128 ip = random.Next(3) == 0
                ? new UInt128(0x20010DB800000000UL + (ulong)random.Next(64), (ulong)random.Next(2_000))
                : V4((uint)random.Next(20_000));
            var key = random.Next(10) == 0
                ? ServiceId.Host(ip)
                : new ServiceId(ip, (ushort)random.Next(1, 6), random.Next(2) == 0 ? Transport.Tcp : Transport.Udp);
            ref var value = ref map.GetValueRefOrAddDefault(key, out var exists);
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

        Assert.False(map.TryGetValue(new ServiceId(V4(20_001), 80, Transport.Tcp), out _));
        Assert.False(map.TryGetValue(new ServiceId(V4(7), 6, Transport.Tcp), out _));
    }

    [Fact]
    public void Reserve_KeepsSlotsInPlaceForThatManyAdditions()
    {
        var map = new ServiceIdMap();
        map.Reserve(10_000);
        ref var first = ref map.GetValueRefOrAddDefault(new ServiceId(1, 1, Transport.Tcp), out _);
        first = 42;
        for (var i = 2; i < 10_000; i++)
        {
            map.GetValueRefOrAddDefault(new ServiceId((UInt128)i, 1, Transport.Tcp), out _) = i;
        }

        Assert.Equal(42, first); // still the live slot: no growth moved it
        Assert.True(map.TryGetValue(new ServiceId(1, 1, Transport.Tcp), out var value) && value == 42);
    }

    private static UInt128 V4(uint address) => new(0, 0xFFFF_0000_0000UL | address);
}
