using System.Diagnostics;
using System.Net;
using ExposureIndex.GeoIp.Tests.Support;

namespace ExposureIndex.GeoIp.Tests;

/// <summary>
/// Ad-hoc throughput measurement (explicit: not part of a normal run). Run it with
/// <c>dotnet run --project tests/ExposureIndex.GeoIp.Tests -c Release -- -method "*LookupBenchmark*" -explicit only</c>.
/// It prints lookups/second; it asserts only that every mode returns the same answers.
/// </summary>
public sealed class LookupBenchmark
{
    [Fact(Explicit = true)]
    public void Measure_RandomIpv4_CityDatabases()
    {
        var output = TestContext.Current.TestOutputHelper!;
        var testCity = TestData.File("GeoIP2-City-Test.mmdb");
        var bytes = BuildCityScaleDatabase(testCity, networks: 1_000_000, distinctRecords: 50_000);
        var path = Path.Combine(Path.GetTempPath(), $"bench-city-{Guid.NewGuid():N}.mmdb");
        File.WriteAllBytes(path, bytes);
        try
        {
            foreach (var (label, file) in new[] { ("GeoIP2-City-Test.mmdb (tiny, mostly misses)", testCity), ("synthetic City, 1M IPv4 networks, 50k records", path) })
            {
                var random = new Random(42);
                var addresses = Enumerable.Range(0, 1 << 20).Select(_ => new IPAddress((uint)random.Next() ^ ((uint)random.Next() << 16))).ToArray();
                using var plain = MmdbReader.Open(file);
                using var cachedReader = MmdbReader.Open(file, new MmdbReaderOptions { RecordCacheSize = 16384 });
                using var typed = new GeoDatabase(MmdbReader.Open(file), new GeoDatabaseOptions { CacheSize = 0 });
                using var typedCached = new GeoDatabase(MmdbReader.Open(file), new GeoDatabaseOptions { CacheSize = 16384 });
                var verify = Stopwatch.StartNew();
                plain.Verify();
                output.WriteLine($"{label}: {plain.Metadata.NodeCount} nodes, {new FileInfo(file).Length / 1024} KiB, Verify {verify.ElapsedMilliseconds} ms");

                var hits = addresses.Count(a => plain.TryLookup(a, out _, out _));
                output.WriteLine($"  hit ratio {100.0 * hits / addresses.Length:F1}%");
                foreach (var address in addresses.Take(20_000))
                {
                    typed.TryGetLocation(address, out var a);
                    typedCached.TryGetLocation(address, out var b);
                    Assert.Equal(a, b);
                    Assert.Equal(plain.Lookup(address), cachedReader.Lookup(address));
                }

                Report(output, "MmdbReader.TryLookup, full decode, no cache", addresses, a => plain.TryLookup(a, out _, out _));
                Report(output, "MmdbReader.TryLookup, record cache 16k", addresses, a => cachedReader.TryLookup(a, out _, out _));
                Report(output, "GeoDatabase.TryGetLocation, typed path, no cache", addresses, a => typed.TryGetLocation(a, out _));
                Report(output, "GeoDatabase.TryGetLocation, typed path + cache 16k", addresses, a => typedCached.TryGetLocation(a, out _));
                Report(output, "tree walk only (TryLookupOffset)", addresses, a => plain.TryLookupOffset(a, out _, out _));

                // Scan results often arrive grouped by network (several ports per host, hosts per /24).
                var grouped = addresses.OrderBy(a => BitConverter.ToUInt32(a.GetAddressBytes().Reverse().ToArray())).ToArray();
                Report(output, "GeoDatabase.TryGetLocation, typed path, no cache, address order", grouped, a => typed.TryGetLocation(a, out _));
                Report(output, "GeoDatabase.TryGetLocation, typed path + cache 16k, address order", grouped, a => typedCached.TryGetLocation(a, out _));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void Report(ITestOutputHelper output, string label, IPAddress[] addresses, Func<IPAddress, bool> lookup)
    {
        for (var i = 0; i < 50_000; i++)
        {
            lookup(addresses[i]);
        }

        var clock = Stopwatch.StartNew();
        long count = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(2))
        {
            for (var i = 0; i < 10_000; i++)
            {
                lookup(addresses[(int)(count++ & (addresses.Length - 1))]);
            }
        }

        output.WriteLine($"  {label}: {count / clock.Elapsed.TotalSeconds:N0} lookups/s (1 thread)");
    }

    /// <summary>A City-shaped database of realistic size: real test records, varied into distinct ones, over random IPv4 networks.</summary>
    private static byte[] BuildCityScaleDatabase(string testCity, int networks, int distinctRecords)
    {
        using var source = MmdbReader.Open(testCity);
        var pool = TestData.Networks("GeoIP2-City-Test.json")
            .Select(n => source.Lookup(n.Network.BaseAddress))
            .OfType<MmdbValue>()
            .Where(v => v.TryGetValue("city", out _))
            .Distinct()
            .ToArray();
        var records = new object[distinctRecords];
        for (var i = 0; i < records.Length; i++)
        {
            var template = (Map)MmdbWriter.FromMmdb(pool[i % pool.Length]);
            records[i] = new Map([.. template.Entries.Select(e => e.Key == "postal"
                ? new KeyValuePair<string, object>("postal", new Map(("code", $"P{i}")))
                : e)]);
        }

        var writer = new MmdbWriter(6, 28) { DatabaseType = "GeoIP2-City", DeduplicateWithPointers = true };
        var random = new Random(7);
        for (var i = 0; i < networks; i++)
        {
            var prefix = random.Next(16, 29);
            var address = (uint)random.Next() ^ ((uint)random.Next() << 16);
            address &= prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);
            var ip = new IPAddress(new[] { (byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address });
            writer.Insert($"{ip}/{prefix}", records[random.Next(records.Length)]);
        }

        return writer.Build();
    }
}
