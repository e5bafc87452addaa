using ExposureIndex.Contracts.V1;
using ExposureIndex.Storage.Embedded;
using ExposureIndex.Storage.Embedded.Index;

namespace ExposureIndex.Storage.Tests.Embedded;

public sealed class OpenAddressMapTests
{
    [Fact]
    public void WordKeys_ManyKeysThroughSeveralGrowths_AgreeWithDictionary()
        // A small key space forces repeats; key 0 (the empty-slot marker) must still work.
        => AgreesWithDictionary(random => new WordKey(random.Next(50) == 0 ? 0UL : (ulong)random.NextInt64(0, 120_000) * 0x100000001UL), absent: new WordKey(0xDEADBEEFCAFEUL));

    [Fact]
    public void ServiceKeys_ManyKeysThroughSeveralGrowths_AgreeWithDictionary()
        // IPv4-mapped and IPv6 addresses, a few ports and both transports, whole-address keys among them, and a
        // small address space so that keys repeat.
        => AgreesWithDictionary(random =>
        {
            var ip = random.Next(3) == 0
                ? new UInt128(0x20010DB800000000UL + (ulong)random.Next(64), (ulong)random.Next(2_000))
                : V4((uint)random.Next(20_000));
            return random.Next(10) == 0
                ? PackedServiceId.Host(ip)
                : PackedServiceId.Of(new ServiceId(ip, (ushort)random.Next(1, 6), random.Next(2) == 0 ? Transport.Tcp : Transport.Udp));
        }, absent: PackedServiceId.Of(new ServiceId(V4(20_001), 80, Transport.Tcp)));

    [Fact]
    public void ServiceKeys_AreDistinctAcrossPortTransportAndWholeAddress()
    {
        var map = new OpenAddressMap<PackedServiceId, int>();
        PackedServiceId[] keys =
        [
            PackedServiceId.Of(new ServiceId(V4(7), 80, Transport.Tcp)),
            PackedServiceId.Of(new ServiceId(V4(7), 80, Transport.Udp)),
            PackedServiceId.Of(new ServiceId(V4(7), 81, Transport.Tcp)),
            PackedServiceId.Of(new ServiceId(V4(8), 80, Transport.Tcp)),
            PackedServiceId.Host(V4(7)),
        ];
        for (var i = 0; i < keys.Length; i++)
        {
            map.GetValueRefOrAddDefault(keys[i], out var exists) = i + 1;
            Assert.False(exists);
        }

        for (var i = 0; i < keys.Length; i++)
        {
            Assert.True(map.TryGetValue(keys[i], out var value));
            Assert.Equal(i + 1, value);
        }

        Assert.False(map.TryGetValue(PackedServiceId.Host(V4(8)), out _));
    }

    [Fact]
    public void Reserve_KeepsSlotsInPlaceForThatManyAdditions()
    {
        var map = new OpenAddressMap<WordKey, int>();
        map.Reserve(10_000);
        ref var first = ref map.GetValueRefOrAddDefault(new WordKey(1), out _);
        for (var i = 2; i < 10_000; i++)
        {
            map.GetValueRefOrAddDefault(new WordKey((ulong)i), out _) = i;
        }

        // Written through the reference taken before the additions: had the table grown, the write would land in
        // the old array and the map would not see it.
        first = 42;
        Assert.True(map.TryGetValue(new WordKey(1), out var value));
        Assert.Equal(42, value);
    }

    private static void AgreesWithDictionary<TKey>(Func<Random, TKey> nextKey, TKey absent)
        where TKey : unmanaged, IOpenAddressKey<TKey>
    {
        var map = new OpenAddressMap<TKey, long>();
        var oracle = new Dictionary<TKey, long>();
        var random = new Random(11);
        for (var i = 0; i < 200_000; i++)
        {
            var key = nextKey(random);
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

        Assert.False(map.TryGetValue(absent, out _));
    }

    private static UInt128 V4(uint address) => new(0, 0xFFFF_0000_0000UL | address);}
