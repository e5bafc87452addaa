using System.Net;
using ExposureIndex.GeoIp.Tests.Support;

namespace ExposureIndex.GeoIp.Tests;

public sealed class MmdbReaderTests
{
    public static TheoryData<int, int> AllShapes()
    {
        var data = new TheoryData<int, int>();
        foreach (var ipVersion in new[] { 4, 6 })
        {
            foreach (var recordSize in new[] { 24, 28, 32 })
            {
                data.Add(ipVersion, recordSize);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllShapes))]
    public void Open_TestDatabases_ReadsMetadata(int ipVersion, int recordSize)
    {
        using var reader = MmdbReader.Open(TestData.File($"MaxMind-DB-test-ipv{ipVersion}-{recordSize}.mmdb"));
        var metadata = reader.Metadata;

        Assert.Equal(2, metadata.BinaryFormatMajorVersion);
        Assert.Equal(0, metadata.BinaryFormatMinorVersion);
        Assert.Equal(ipVersion, metadata.IpVersion);
        Assert.Equal(recordSize, metadata.RecordSize);
        Assert.Equal("Test", metadata.DatabaseType);
        Assert.Contains("en", metadata.Languages);
        Assert.Contains("zh", metadata.Languages);
        Assert.Equal("Test Database", metadata.Description["en"]);
        Assert.Equal("Test Database Chinese", metadata.Description["zh"]);
        Assert.True(metadata.BuildEpoch > 1_300_000_000);
        Assert.NotNull(metadata.BuildTime);
        Assert.True(metadata.NodeCount > 0);
        Assert.Equal((long)metadata.NodeCount * recordSize / 4, metadata.SearchTreeSize);
        reader.Verify();
    }

    [Theory]
    [InlineData(24)]
    [InlineData(28)]
    [InlineData(32)]
    public void TryLookup_Ipv4Database_FindsEachNetworkWithItsPrefix(int recordSize)
    {
        using var reader = MmdbReader.Open(TestData.File($"MaxMind-DB-test-ipv4-{recordSize}.mmdb"));

        // Networks 1.1.1.1/32, 1.1.1.2/31, 1.1.1.4/30, 1.1.1.8/29, 1.1.1.16/28 and 1.1.1.32/32 each hold {"ip": first address}.
        foreach (var (address, network, prefix) in new[]
        {
            ("1.1.1.1", "1.1.1.1", 32), ("1.1.1.2", "1.1.1.2", 31), ("1.1.1.3", "1.1.1.2", 31), ("1.1.1.4", "1.1.1.4", 30),
            ("1.1.1.7", "1.1.1.4", 30), ("1.1.1.8", "1.1.1.8", 29), ("1.1.1.15", "1.1.1.8", 29), ("1.1.1.16", "1.1.1.16", 28),
            ("1.1.1.31", "1.1.1.16", 28), ("1.1.1.32", "1.1.1.32", 32),
        })
        {
            Assert.True(reader.TryLookup(IPAddress.Parse(address), out var record, out var prefixLength), address);
            Assert.Equal(network, record["ip"].AsString());
            Assert.Equal(prefix, prefixLength);
        }

        foreach (var miss in new[] { "1.1.1.33", "255.254.253.123", "0.0.0.0" })
        {
            Assert.False(reader.TryLookup(IPAddress.Parse(miss), out var record, out _), miss);
            Assert.Null(record);
        }

        Assert.False(reader.TryLookup(IPAddress.Parse("4.0.0.1"), out _, out var missPrefix));
        Assert.Equal(6, missPrefix);
    }

    [Theory]
    [InlineData(24)]
    [InlineData(28)]
    [InlineData(32)]
    public void TryLookup_Ipv6Database_FindsEachNetworkWithItsPrefix(int recordSize)
    {
        using var reader = MmdbReader.Open(TestData.File($"MaxMind-DB-test-ipv6-{recordSize}.mmdb"));

        foreach (var (address, network, prefix) in new[]
        {
            ("::1:ffff:ffff", "::1:ffff:ffff", 128), ("::2:0:0", "::2:0:0", 122), ("::2:0:1", "::2:0:0", 122),
            ("::2:0:39", "::2:0:0", 122), ("::2:0:40", "::2:0:40", 124), ("::2:0:49", "::2:0:40", 124),
            ("::2:0:50", "::2:0:50", 125), ("::2:0:57", "::2:0:50", 125), ("::2:0:58", "::2:0:58", 127), ("::2:0:59", "::2:0:58", 127),
        })
        {
            Assert.True(reader.TryLookup(IPAddress.Parse(address), out var record, out var prefixLength), address);
            Assert.Equal(network, record["ip"].AsString());
            Assert.Equal(prefix, prefixLength);
        }

        foreach (var miss in new[] { "1.1.1.33", "255.254.253.123", "89fa::", "::2:0:60" })
        {
            Assert.False(reader.TryLookup(IPAddress.Parse(miss), out _, out _), miss);
        }

        // An IPv4 lookup walks from the ::/96 node: 1.1.1.1 runs out of tree 8 bits into the IPv4 space.
        Assert.False(reader.TryLookup(IPAddress.Parse("1.1.1.1"), out _, out var ipv4Prefix));
        Assert.Equal(8, ipv4Prefix);
    }

    [Theory]
    [InlineData(24)]
    [InlineData(28)]
    [InlineData(32)]
    public void TryLookup_MixedDatabase_Ipv4AndIpv6FormsAgree(int recordSize)
    {
        using var reader = MmdbReader.Open(TestData.File($"MaxMind-DB-test-mixed-{recordSize}.mmdb"));
        Assert.Equal(6, reader.Metadata.IpVersion);

        foreach (var (v4, v4Prefix) in new[] { ("1.1.1.1", 32), ("1.1.1.3", 31), ("1.1.1.17", 28) })
        {
            Assert.True(reader.TryLookup(IPAddress.Parse(v4), out var viaIpv4, out var prefix4), v4);
            Assert.Equal(v4Prefix, prefix4);

            // The same address in the IPv4-compatible form walks the ::/96 subtree itself: same record, IPv6 prefix.
            Assert.True(reader.TryLookup(IPAddress.Parse("::" + v4), out var viaCompatible, out var prefix6));
            Assert.Equal(v4Prefix + 96, prefix6);
            Assert.Equal(viaIpv4, viaCompatible);

            // IPv4-mapped addresses are looked up as IPv4 (documented on MmdbReader).
            Assert.True(reader.TryLookup(IPAddress.Parse("::ffff:" + v4), out var viaMapped, out var prefixMapped));
            Assert.Equal(v4Prefix, prefixMapped);
            Assert.Equal(viaIpv4, viaMapped);
        }

        Assert.Equal("::1.1.1.2", reader.Lookup(IPAddress.Parse("1.1.1.3"))!["ip"].AsString());
        Assert.Equal("::2:0:0", reader.Lookup(IPAddress.Parse("::2:0:1"))!["ip"].AsString());
        Assert.Null(reader.Lookup(IPAddress.Parse("1.1.1.33")));
        reader.Verify();
    }

    [Fact]
    public void TryLookup_Ipv6AddressInIpv4Database_IsMissWithPrefixZero()
    {
        using var reader = MmdbReader.Open(TestData.File("MaxMind-DB-test-ipv4-32.mmdb"));

        Assert.False(reader.TryLookup(IPAddress.Parse("2001:db8::1"), out var record, out var prefix));
        Assert.Null(record);
        Assert.Equal(0, prefix);

        // ...but an IPv4-mapped address is the IPv4 address.
        Assert.True(reader.TryLookup(IPAddress.Parse("::ffff:1.1.1.1"), out record, out prefix));
        Assert.Equal("1.1.1.1", record["ip"].AsString());
        Assert.Equal(32, prefix);
    }

    [Theory]
    [InlineData("1.1.1.3", "MaxMind-DB-test-decoder.mmdb", 24, true)]
    [InlineData("::1.1.1.128", "MaxMind-DB-test-decoder.mmdb", 120, true)]
    [InlineData("::ffff:1.1.1.128", "MaxMind-DB-test-decoder.mmdb", 24, true)]
    [InlineData("1.1.1.1", "MaxMind-DB-test-ipv6-32.mmdb", 8, false)]
    [InlineData("::1:ffff:ffff", "MaxMind-DB-test-ipv6-24.mmdb", 128, true)]
    [InlineData("200.0.2.1", "MaxMind-DB-no-ipv4-search-tree.mmdb", 0, true)]
    [InlineData("::200.0.2.1", "MaxMind-DB-no-ipv4-search-tree.mmdb", 64, true)]
    [InlineData("0:0:0:0:ffff:ffff:ffff:ffff", "MaxMind-DB-no-ipv4-search-tree.mmdb", 64, true)]
    [InlineData("ef00::", "MaxMind-DB-no-ipv4-search-tree.mmdb", 1, false)]
    public void TryLookup_KnownAddresses_ReportsPrefixLength(string address, string file, int expectedPrefix, bool expectedFound)
    {
        using var reader = MmdbReader.Open(TestData.File(file));

        var found = reader.TryLookup(IPAddress.Parse(address), out var record, out var prefix);

        Assert.Equal(expectedFound, found);
        Assert.Equal(expectedFound, record is not null);
        Assert.Equal(expectedPrefix, prefix);
    }

    [Fact]
    public void TryLookup_NoIpv4SearchTree_EveryIpv4AddressSharesTheSlash64Record()
    {
        using var reader = MmdbReader.Open(TestData.File("MaxMind-DB-no-ipv4-search-tree.mmdb"));

        Assert.Equal("::/64", reader.Lookup(IPAddress.Parse("1.1.1.1"))!.AsString());
        Assert.Equal("::/64", reader.Lookup(IPAddress.Parse("192.1.1.1"))!.AsString());
    }

    [Fact]
    public void Open_MetadataWithPointers_ResolvesThemAgainstTheMetadataStart()
    {
        using var reader = MmdbReader.Open(TestData.File("MaxMind-DB-test-metadata-pointers.mmdb"));

        Assert.Equal("Lots of pointers in metadata", reader.Metadata.DatabaseType);
        Assert.Equal(["en", "es", "zh"], reader.Metadata.Languages);
        Assert.Equal("Lots of pointers in metadata", reader.Metadata.Description["es"]);
        reader.Verify();
    }

    [Fact]
    public void Lookup_StringValueRecords_ReturnsTheString()
    {
        using var reader = MmdbReader.Open(TestData.File("MaxMind-DB-string-value-entries.mmdb"));

        Assert.Equal("1.1.1.1/32", reader.Lookup(IPAddress.Parse("1.1.1.1"))!.AsString());
    }

    [Fact]
    public void TryLookupOffset_NetworksSharingARecord_ShareTheOffset()
    {
        using var reader = MmdbReader.Open(TestData.File("GeoIP2-Country-Test.mmdb"));

        Assert.True(reader.TryLookupOffset(IPAddress.Parse("81.2.69.160"), out var first, out _));
        Assert.True(reader.TryLookupOffset(IPAddress.Parse("81.2.69.142"), out var second, out _));
        Assert.Equal(reader.DecodeAt(first), reader.DecodeAt(second));
        Assert.False(reader.TryLookupOffset(IPAddress.Parse("10.0.0.1"), out var missOffset, out _));
        Assert.Equal(-1, missOffset);
        Assert.Throws<ArgumentException>(() => reader.TryLookupOffset(new byte[5], out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.DecodeAt(reader.DataSectionSize));
    }

    [Fact]
    public void TryLookup_RecordCacheOn_ReturnsTheSameRecordsAsWithout()
    {
        var path = TestData.File("GeoIP2-City-Test.mmdb");
        using var plain = MmdbReader.Open(path);
        using var cached = MmdbReader.Open(path, new MmdbReaderOptions { RecordCacheSize = 64 });

        foreach (var network in TestData.Networks("GeoIP2-City-Test.json"))
        {
            for (var round = 0; round < 2; round++)
            {
                var address = network.Network.BaseAddress;
                Assert.Equal(plain.TryLookup(address, out var a, out var pa), cached.TryLookup(address, out var b, out var pb));
                Assert.Equal(a, b);
                Assert.Equal(pa, pb);
            }
        }
    }

    [Fact]
    public void Dispose_ThenLookup_ThrowsObjectDisposed()
    {
        var reader = MmdbReader.Open(TestData.File("MaxMind-DB-test-ipv4-24.mmdb"));
        reader.Dispose();
        reader.Dispose();

        Assert.Throws<ObjectDisposedException>(() => reader.TryLookup(IPAddress.Parse("1.1.1.1"), out _, out _));
    }

    [Fact]
    public void Open_MissingFile_ThrowsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => MmdbReader.Open(Path.Combine(Path.GetTempPath(), $"absent-{Guid.NewGuid():N}.mmdb")));
    }

    [Fact]
    public void Open_InvalidOptions_ReportsEveryProblem()
    {
        var options = new MmdbReaderOptions { RecordCacheSize = -1 };

        Assert.Single(options.Validate());
        Assert.Throws<ArgumentException>(() => MmdbReader.FromBytes(new byte[] { 1 }, options));
    }

    [Theory]
    [InlineData(24)]
    [InlineData(28)]
    [InlineData(32)]
    public void TryLookup_WriterBuiltTreesOfEveryRecordSize_MatchLongestPrefix(int recordSize)
    {
        // Enough nodes that 28-bit records use the shared nibble (node numbers and data offsets above 2^24 would
        // need a huge file, so this checks values above 2^16 and the nibble placement for both records).
        var writer = new MmdbWriter(6, recordSize);
        var random = new Random(recordSize);
        var expected = new List<(IPNetwork Network, string Value)>();
        for (var i = 0; i < 3000; i++)
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            var prefix = random.Next(16, 129);
            var network = new IPNetwork(new IPAddress(Mask(bytes, prefix)), prefix);
            var value = $"net{i}";
            writer.Insert(network.ToString(), value);
            expected.Add((network, value));
        }

        using var reader = MmdbReader.FromBytes(writer.Build());
        reader.Verify();
        Assert.True(reader.Metadata.NodeCount > 65536, $"node count {reader.Metadata.NodeCount}");

        foreach (var (network, _) in expected.Take(500))
        {
            var address = network.BaseAddress;
            var best = expected.Where(e => e.Network.Contains(address)).OrderBy(e => e.Network.PrefixLength).ThenBy(e => expected.IndexOf(e)).Last();
            Assert.True(reader.TryLookup(address, out var record, out var prefix));
            Assert.Equal(best.Value, record.AsString());

            // A more specific network inserted inside this one splits it, so its first address may sit deeper.
            var split = expected.Any(e => e.Network.PrefixLength > best.Network.PrefixLength && best.Network.Contains(e.Network.BaseAddress));
            if (split)
            {
                Assert.InRange(prefix, best.Network.PrefixLength, 128);
            }
            else
            {
                Assert.Equal(best.Network.PrefixLength, prefix);
            }
        }
    }

    private static byte[] Mask(byte[] bytes, int prefix)
    {
        for (var bit = prefix; bit < 128; bit++)
        {
            bytes[bit >> 3] &= (byte)~(0x80 >> (bit & 7));
        }

        return bytes;
    }

    [Fact]
    public async Task Dispose_WhileLookupsRunOnOtherThreads_LookupsSucceedOrSeeObjectDisposed()
    {
        var path = TestData.File("GeoIP2-City-Test.mmdb");
        var addresses = TestData.Networks("GeoIP2-City-Test.json").Select(n => n.Network.BaseAddress).ToArray();
        for (var round = 0; round < 20; round++)
        {
            var reader = MmdbReader.Open(path);
            var unexpected = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            var started = new CountdownEvent(2);
            var workers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
            {
                started.Signal();
                for (var i = 0; i < 200_000; i++)
                {
                    try
                    {
                        reader.TryLookup(addresses[(i + w) % addresses.Length], out _, out _);
                    }
                    catch (ObjectDisposedException)
                    {
                        return;
                    }
                    catch (Exception ex)
                    {
                        unexpected.Enqueue(ex);
                        return;
                    }
                }
            }, TestContext.Current.CancellationToken)).ToArray();

            Assert.True(started.Wait(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
            reader.Dispose();
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            Assert.Empty(unexpected);
            started.Dispose();
        }
    }
}
