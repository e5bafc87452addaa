using ExposureIndex.Contracts.V1;
using ExposureIndex.Indexer.Ingest;
using ExposureIndex.Indexer.Tests.Support;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Indexer.Tests.Ingest;

public sealed class RecordValidatorTests
{
    private readonly RecordValidator _validator = new();

    [Fact]
    public void Validate_GoodRecord_PassesAndCanonicalizesIp()
    {
        var record = Records.Valid(ip: "::ffff:198.51.100.7");
        Assert.Null(_validator.Validate(record, 0));
        Assert.Equal("198.51.100.7", record.Ip);

        var v6 = Records.Valid(ip: "2001:DB8:0:0::1");
        Assert.Null(_validator.Validate(v6, 0));
        Assert.Equal("2001:db8::1", v6.Ip);
    }

    [Theory]
    [InlineData("", "ip is empty")]
    [InlineData("300.1.1.1", "is not an IPv4 or IPv6 address")]
    [InlineData("1.2.3", "is not an IPv4 or IPv6 address")]
    [InlineData("010.1.1.1", "is not an IPv4 or IPv6 address")]
    [InlineData("example.com", "is not an IPv4 or IPv6 address")]
    [InlineData("1.2.3.4.5", "is not an IPv4 or IPv6 address")]
    [InlineData("1..2.3", "is not an IPv4 or IPv6 address")]
    [InlineData("1.2.3.4 ", "is not an IPv4 or IPv6 address")]
    [InlineData("256.0.0.1", "is not an IPv4 or IPv6 address")]
    [InlineData("1.2.3.0400", "is not an IPv4 or IPv6 address")]
    public void Validate_BadIp_RejectsWithReason(string ip, string reason)
    {
        var rejection = _validator.Validate(Records.Valid(ip: ip), 3);
        Assert.NotNull(rejection);
        Assert.Equal(RejectionCode.InvalidIp, rejection.Code);
        Assert.Equal("ip", rejection.Field);
        Assert.Equal(3u, rejection.Index);
        Assert.Contains(reason, rejection.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.2.3.4")]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData("192.0.2.10")]
    public void Validate_CanonicalDottedQuad_PassesUnchanged(string ip)
    {
        var record = Records.Valid(ip: ip);
        Assert.Null(_validator.Validate(record, 0));
        Assert.Same(ip, record.Ip);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(65536u)]
    [InlineData(uint.MaxValue)]
    public void Validate_BadPort_Rejects(uint port)
    {
        var rejection = _validator.Validate(Records.Valid(port: port), 0);
        Assert.NotNull(rejection);
        Assert.Equal(RejectionCode.InvalidPort, rejection.Code);
        Assert.Equal($"port {port} is outside 1-65535", rejection.Reason);
    }

    [Fact]
    public void Validate_UnspecifiedTransport_Rejects()
    {
        var record = Records.Valid();
        record.Transport = Transport.Unspecified;
        Assert.Equal(RejectionCode.InvalidTransport, _validator.Validate(record, 0)?.Code);
    }

    [Fact]
    public void Validate_MissingOrAbsurdTimestamp_Rejects()
    {
        var missing = Records.Valid();
        missing.Timestamp = null;
        Assert.Equal(RejectionCode.MissingTimestamp, _validator.Validate(missing, 0)?.Code);

        var future = Records.Valid(at: DateTime.UtcNow.AddDays(30));
        Assert.Equal("timestamp", _validator.Validate(future, 0)?.Field);

        var ancient = Records.Valid();
        ancient.Timestamp = new Timestamp { Seconds = -5_000_000_000 };
        Assert.Equal("timestamp", _validator.Validate(ancient, 0)?.Field);
    }

    [Fact]
    public void Validate_OversizedFields_RejectNamingTheField()
    {
        var data = Records.Valid();
        data.Data = ByteString.CopyFrom(new byte[_validator.Limits.MaxDataBytes + 1]);
        var rejection = _validator.Validate(data, 0);
        Assert.Equal(RejectionCode.FieldTooLarge, rejection?.Code);
        Assert.Equal("data", rejection?.Field);

        var product = Records.Valid();
        product.Product = new string('p', _validator.Limits.MaxShortField + 1);
        Assert.Equal("product", _validator.Validate(product, 0)?.Field);

        var hostnames = Records.Valid();
        hostnames.Hostnames.Add(new string('h', 300));
        Assert.Equal("hostnames[0]", _validator.Validate(hostnames, 0)?.Field);

        var many = Records.Valid();
        many.Tags.AddRange(Enumerable.Range(0, _validator.Limits.MaxListItems + 1).Select(i => "t" + i));
        Assert.Equal("tags", _validator.Validate(many, 0)?.Field);
    }

    [Fact]
    public void Validate_NonCpe23String_Rejects()
    {
        var record = Records.Valid();
        record.Cpe23.Add("cpe:/a:nginx:nginx:1.22.1");
        var rejection = _validator.Validate(record, 0);
        Assert.Equal(RejectionCode.InvalidField, rejection?.Code);
        Assert.Equal("cpe23[0]", rejection?.Field);
    }
}
