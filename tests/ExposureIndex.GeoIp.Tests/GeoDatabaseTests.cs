using System.Net;
using ExposureIndex.GeoIp.Tests.Support;

namespace ExposureIndex.GeoIp.Tests;

public sealed class GeoDatabaseTests
{
    [Theory]
    [InlineData("GeoIP2-City-Test.mmdb", "GeoIP2-City-Test.json")]
    [InlineData("GeoLite2-City-Test.mmdb", "GeoLite2-City-Test.json")]
    [InlineData("GeoIP2-Country-Test.mmdb", "GeoIP2-Country-Test.json")]
    public void TryGetLocation_EveryJsonNetwork_MatchesTheSourceData(string database, string json)
    {
        using var geo = GeoDatabase.Open(TestData.File(database));
        var networks = TestData.Networks(json);
        Assert.Equal(GeoDatabaseKind.Location, geo.Kind);

        var checkedAddresses = 0;
        foreach (var address in AddressesOf(networks))
        {
            var expected = TestData.Expected(networks, address.Query);
            var found = geo.TryGetLocation(address.Query, out var location, out var prefix);
            Assert.True(expected is not null == found, $"{address.Query}: found={found}, expected {expected?.Network}");
            if (expected is null)
            {
                continue;
            }

            var what = $"{address.Query} in {expected.Network}";
            Assert.Equal(expected.String("country", "iso_code"), location!.CountryCode);
            Assert.Equal(expected.String("country", "names", "en"), location.CountryName);
            Assert.Equal(expected.String("city", "names", "en"), location.City);
            Assert.Equal(expected.String("subdivisions", "0", "iso_code"), location.RegionCode);
            Assert.Equal(expected.String("postal", "code"), location.PostalCode);
            Assert.Equal(expected.String("continent", "code"), location.ContinentCode);
            Assert.Equal(expected.Number("location", "latitude"), location.Latitude);
            Assert.Equal(expected.Number("location", "longitude"), location.Longitude);
            Assert.Equal((int?)expected.Number("location", "accuracy_radius"), location.AccuracyRadius);
            Assert.True(prefix >= address.MinimumPrefix, $"{what}: prefix {prefix}");
            checkedAddresses++;
        }

        Assert.True(checkedAddresses > networks.Count, $"only {checkedAddresses} addresses checked");
    }

    [Fact]
    public void TryGetNetworkOwner_AsnDatabase_MatchesTheSourceData()
    {
        using var geo = GeoDatabase.Open(TestData.File("GeoLite2-ASN-Test.mmdb"));
        var networks = TestData.Networks("GeoLite2-ASN-Test.json");
        Assert.Equal(GeoDatabaseKind.Asn, geo.Kind);
        Assert.False(geo.TryGetLocation(IPAddress.Parse("1.128.0.0"), out _));

        foreach (var address in AddressesOf(networks))
        {
            var expected = TestData.Expected(networks, address.Query);
            Assert.Equal(expected is not null, geo.TryGetNetworkOwner(address.Query, out var owner));
            if (expected is null)
            {
                continue;
            }

            var number = expected.Number("autonomous_system_number");
            Assert.Equal(number is { } n ? $"AS{(uint)n}" : null, owner!.Asn);
            Assert.Equal((uint?)number, owner.AsnNumber);
            Assert.Equal(expected.String("autonomous_system_organization"), owner.Organization);
            Assert.Null(owner.Isp);
        }

        Assert.True(geo.TryGetNetworkOwner(IPAddress.Parse("1.128.0.0"), out var telstra));
        Assert.Equal("AS1221", telstra.Asn);
        Assert.Equal("Telstra Pty Ltd", telstra.Organization);
    }

    [Fact]
    public void TryGetNetworkOwner_IspDatabase_MatchesTheSourceData()
    {
        using var geo = GeoDatabase.Open(TestData.File("GeoIP2-ISP-Test.mmdb"));
        var networks = TestData.Networks("GeoIP2-ISP-Test.json");
        Assert.Equal(GeoDatabaseKind.Isp, geo.Kind);

        foreach (var address in AddressesOf(networks))
        {
            var expected = TestData.Expected(networks, address.Query);
            Assert.Equal(expected is not null, geo.TryGetNetworkOwner(address.Query, out var owner));
            if (expected is null)
            {
                continue;
            }

            var number = expected.Number("autonomous_system_number");
            Assert.Equal(number is { } n ? $"AS{(uint)n}" : null, owner!.Asn);
            Assert.Equal(expected.String("organization") ?? expected.String("autonomous_system_organization"), owner.Organization);
            Assert.Equal(expected.String("isp"), owner.Isp);
        }
    }

    [Fact]
    public void TryGetLocation_ReadmeExamples_LondonAndJapan()
    {
        using var geo = GeoDatabase.Open(TestData.File("GeoIP2-City-Test.mmdb"));

        Assert.True(geo.TryGetLocation(IPAddress.Parse("81.2.69.160"), out var london));
        Assert.Equal(new GeoLocation("GB", "United Kingdom", "London", "ENG", null, 51.5142, -0.0931, "EU", 100), london);

        Assert.True(geo.TryGetLocation(IPAddress.Parse("2001:218::1"), out var japan));
        Assert.Equal("JP", japan.CountryCode);
        Assert.Equal("Japan", japan.CountryName);
        Assert.Equal("AS", japan.ContinentCode);

        Assert.True(geo.TryGetLocation(IPAddress.Parse("::ffff:81.2.69.160"), out var mapped));
        Assert.Equal(london, mapped);
        Assert.False(geo.TryGetLocation(IPAddress.Parse("10.0.0.1"), out _));
        Assert.False(geo.TryGetNetworkOwner(IPAddress.Parse("81.2.69.160"), out _));
    }

    public static TheoryData<string> TypedDatabases() =>
    [
        "GeoIP2-City-Test.mmdb", "GeoLite2-City-Test.mmdb", "GeoIP2-Country-Test.mmdb", "GeoLite2-Country-Test.mmdb",
        "GeoIP2-City-Shield-Test.mmdb", "GeoIP2-Enterprise-Test.mmdb", "GeoIP2-Precision-Enterprise-Test.mmdb",
        "GeoIP2-Enterprise-Shield-Test.mmdb", "GeoLite2-ASN-Test.mmdb", "GeoIP2-ISP-Test.mmdb",
    ];

    [Theory]
    [MemberData(nameof(TypedDatabases))]
    public void TypedPath_EveryDatabase_AgreesWithTheFullDecoder(string database)
    {
        // The fast path reads fields straight from the bytes; the reference reads them from the decoded MmdbValue.
        var path = TestData.File(database);
        using var geo = GeoDatabase.Open(path, new GeoDatabaseOptions { CacheSize = 0 });
        using var cached = GeoDatabase.Open(path);
        var addresses = SampleAddresses(geo.Reader).ToList();
        Assert.NotEmpty(addresses);

        var hits = 0;
        foreach (var address in addresses)
        {
            var record = geo.Reader.Lookup(address);
            if (geo.SupportsLocation)
            {
                Assert.Equal(record is not null, geo.TryGetLocation(address, out var location));
                Assert.Equal(record is null ? null : ReferenceLocation(record), location);
                Assert.True(cached.TryGetLocation(address, out var again) == (location is not null));
                Assert.Equal(location, again);
            }

            if (geo.SupportsNetworkOwner)
            {
                Assert.Equal(record is not null, geo.TryGetNetworkOwner(address, out var owner));
                var expected = record is null ? null : ReferenceOwner(geo.Kind == GeoDatabaseKind.Enterprise ? record.TryGetValue("traits", out var t) ? t : null : record);
                Assert.Equal(expected, owner);
                Assert.True(cached.TryGetNetworkOwner(address, out var again) == (owner is not null));
                Assert.Equal(owner, again);
            }

            hits += record is null ? 0 : 1;
        }

        Assert.True(hits > 10, $"{database}: only {hits} hits");
    }

    [Fact]
    public async Task TryGetLocation_ParallelThreadsSharingTheCache_AgreeWithOneThread()
    {
        using var geo = GeoDatabase.Open(TestData.File("GeoIP2-City-Test.mmdb"), new GeoDatabaseOptions { CacheSize = 8 });
        var addresses = SampleAddresses(geo.Reader).ToArray();
        var expected = addresses.Select(a => geo.TryGetLocation(a, out var l) ? l : null).ToArray();

        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            var mismatches = 0;
            for (var round = 0; round < 50; round++)
            {
                for (var i = 0; i < addresses.Length; i++)
                {
                    var index = (i * (w + 1)) % addresses.Length;
                    geo.TryGetLocation(addresses[index], out var location);
                    mismatches += Equals(location, expected[index]) ? 0 : 1;
                }
            }

            return mismatches;
        }, TestContext.Current.CancellationToken)).ToArray();

        var results = await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        Assert.All(results, r => Assert.Equal(0, r));
    }

    [Fact]
    public void Enterprise_Traits_GiveTheNetworkOwner()
    {
        using var geo = GeoDatabase.Open(TestData.File("GeoIP2-Enterprise-Test.mmdb"));
        Assert.Equal(GeoDatabaseKind.Enterprise, geo.Kind);

        var owners = SampleAddresses(geo.Reader)
            .Select(a => geo.TryGetNetworkOwner(a, out var owner) ? owner : null)
            .OfType<NetworkOwner>()
            .ToList();

        Assert.Contains(owners, o => o.Asn is not null && o.Organization is not null);
        Assert.Contains(owners, o => o.Isp is not null);
    }

    [Theory]
    [InlineData("GeoIP2-City", GeoDatabaseKind.Location)]
    [InlineData("GeoLite2-Country", GeoDatabaseKind.Location)]
    [InlineData("GeoIP2-City-Shield", GeoDatabaseKind.Location)]
    [InlineData("GeoLite2-ASN", GeoDatabaseKind.Asn)]
    [InlineData("GeoIP2-ISP", GeoDatabaseKind.Isp)]
    [InlineData("GeoIP2-Precision-Enterprise", GeoDatabaseKind.Enterprise)]
    [InlineData("GeoIP2-Connection-Type", GeoDatabaseKind.Unknown)]
    public void KindOf_DatabaseType_ChoosesTheExtraction(string databaseType, GeoDatabaseKind expected)
    {
        Assert.Equal(expected, GeoDatabase.KindOf(databaseType));
    }

    [Fact]
    public void Enrich_CityAndAsnDatabases_CombinesBoth()
    {
        using var city = GeoDatabase.Open(TestData.File("GeoIP2-City-Test.mmdb"));
        using var asn = GeoDatabase.Open(TestData.File("GeoLite2-ASN-Test.mmdb"));
        var enricher = new GeoEnricher([city, asn]);

        var both = enricher.Enrich(IPAddress.Parse("2.125.160.216"));
        Assert.Equal("GB", both.Location?.CountryCode);

        var owner = enricher.Enrich(IPAddress.Parse("1.128.0.0"));
        Assert.Null(owner.Location);
        Assert.Equal("AS1221", owner.Owner?.Asn);
    }

    [Fact]
    public void Options_Invalid_ReportsEveryProblem()
    {
        var options = new GeoDatabaseOptions { CacheSize = -5, Kind = (GeoDatabaseKind)99 };

        Assert.Equal(2, options.Validate().Count);
        Assert.Throws<ArgumentException>(() => GeoDatabase.Open(TestData.File("GeoIP2-City-Test.mmdb"), options));
    }

    internal static GeoLocation ReferenceLocation(MmdbValue record) => new(
        record.GetString("country", "iso_code"),
        record.GetString("country", "names", "en"),
        record.GetString("city", "names", "en"),
        record.GetString("subdivisions", "0", "iso_code"),
        record.GetString("postal", "code"),
        record.TryGetPath(out var lat, "location", "latitude") ? lat.AsDouble() : null,
        record.TryGetPath(out var lon, "location", "longitude") ? lon.AsDouble() : null,
        record.GetString("continent", "code"),
        record.TryGetPath(out var radius, "location", "accuracy_radius") ? (int)radius.AsInt64() : null);

    internal static NetworkOwner ReferenceOwner(MmdbValue? fields) => fields is null
        ? new NetworkOwner(null, null, null)
        : new NetworkOwner(
            fields.TryGetValue("autonomous_system_number", out var n) ? (uint)n.AsUInt64() : null,
            fields.GetString("organization") ?? fields.GetString("autonomous_system_organization"),
            fields.GetString("isp"));

    /// <summary>The first and last address of every network, and the IPv4 form of IPv4-compatible ones.</summary>
    private static IEnumerable<(IPAddress Query, int MinimumPrefix)> AddressesOf(IReadOnlyList<JsonNetwork> networks)
    {
        foreach (var network in networks)
        {
            foreach (var address in new[] { TestData.First(network.Network), TestData.Last(network.Network) })
            {
                yield return (address, 0);
                if (TestData.AsIpv4(address, network.Network.PrefixLength) is { } v4)
                {
                    yield return (v4, 0);
                }
            }
        }
    }

    /// <summary>Addresses around every network the JSON files name, plus a fixed pseudo-random spread.</summary>
    internal static IEnumerable<IPAddress> SampleAddresses(MmdbReader reader)
    {
        var random = new Random(1234);
        foreach (var json in new[] { "GeoIP2-City-Test.json", "GeoIP2-Country-Test.json", "GeoLite2-ASN-Test.json", "GeoIP2-ISP-Test.json" })
        {
            foreach (var network in TestData.Networks(json).Where((_, i) => i % 3 == 0))
            {
                yield return TestData.First(network.Network);
                yield return TestData.Last(network.Network);
            }
        }

        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[reader.Metadata.IpVersion == 6 && i % 2 == 0 ? 16 : 4];
            random.NextBytes(bytes);
            yield return new IPAddress(bytes);
        }
    }
}
