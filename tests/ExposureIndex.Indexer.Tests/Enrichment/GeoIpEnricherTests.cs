using ExposureIndex.Indexer.Enrichment;
using ExposureIndex.Indexer.Tests.Support;
using ExposureIndex.TestCommon;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExposureIndex.Indexer.Tests.Enrichment;

/// <summary>Against MaxMind's own test databases (../shared/geoip-test), expected values from their source JSON.</summary>
public sealed class GeoIpEnricherTests
{
    private static string Db(string name) => Requires.File(Path.Combine(RepoPaths.GeoIpTestData, name), $"MaxMind test database {name}");

    [Fact]
    public async Task Enrich_CityAndAsnDatabases_FillShodanFields()
    {
        using var enricher = GeoIpEnricher.Open([Db("GeoIP2-City-Test.mmdb"), Db("GeoLite2-ASN-Test.mmdb")], NullLogger<GeoIpEnricher>.Instance);
        var london = Records.Valid(ip: "81.2.69.160");
        var telstra = Records.Valid(ip: "1.128.0.1");
        await enricher.EnrichAsync([london, telstra], TestContext.Current.CancellationToken);

        Assert.Equal("GB", london.Location.CountryCode);
        Assert.Equal("United Kingdom", london.Location.CountryName);
        Assert.Equal("London", london.Location.City);
        Assert.Equal("ENG", london.Location.RegionCode);
        Assert.True(london.Location.HasCoordinates);

        Assert.Equal("AS1221", telstra.Asn);
        Assert.Equal("Telstra Pty Ltd", telstra.Org);
    }

    [Fact]
    public async Task Enrich_IspDatabase_FillsIsp()
    {
        using var enricher = GeoIpEnricher.Open([Db("GeoIP2-ISP-Test.mmdb")], NullLogger<GeoIpEnricher>.Instance);
        var record = Records.Valid(ip: "1.128.0.1");
        await enricher.EnrichAsync([record], TestContext.Current.CancellationToken);
        Assert.Equal("AS1221", record.Asn);
        Assert.Equal("Telstra Internet", record.Isp);
    }

    [Fact]
    public async Task Enrich_ExistingLocation_IsKept()
    {
        using var enricher = GeoIpEnricher.Open([Db("GeoIP2-City-Test.mmdb")], NullLogger<GeoIpEnricher>.Instance);
        var record = Records.Valid(ip: "81.2.69.160");
        record.Location = new Contracts.V1.Location { CountryCode = "FR", City = "Paris" };
        await enricher.EnrichAsync([record], TestContext.Current.CancellationToken);
        Assert.Equal("Paris", record.Location.City);
    }

    [Fact]
    public async Task Enrich_AddressNotInDatabase_LeavesFieldsEmpty()
    {
        using var enricher = GeoIpEnricher.Open([Db("GeoIP2-City-Test.mmdb")], NullLogger<GeoIpEnricher>.Instance);
        var record = Records.Valid(ip: "198.51.100.1");
        await enricher.EnrichAsync([record], TestContext.Current.CancellationToken);
        Assert.Null(record.Location);
        Assert.Equal(string.Empty, record.Asn);
    }

    [Fact]
    public void Open_CorruptDatabase_FailsWithThePreciseError()
    {
        var path = Db("GeoIP2-City-Test-Invalid-Node-Count.mmdb");
        var error = Assert.ThrowsAny<GeoIp.MmdbFormatException>(() => GeoIpEnricher.Open([path], NullLogger<GeoIpEnricher>.Instance));
        Assert.Contains("MMDB", error.Message, StringComparison.Ordinal);
    }
}
