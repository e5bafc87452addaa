using System.Net;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Contracts.Tests;

/// <summary>Formats that reach disk (record identities, service keys) are pinned: changing them would orphan stored data.</summary>
public sealed class IdentityGoldenTests
{
    private static ServiceRecord Sample() => new()
    {
        Ip = "192.0.2.10",
        Port = 443,
        Transport = Transport.Tcp,
        Timestamp = Timestamp.FromDateTime(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc)),
        Data = ByteString.CopyFromUtf8("HTTP/1.1 200 OK\r\n"),
        Source = RecordSource.ActiveScan,
        Scanner = "crawler/0",
    };

    // Pinned, and cross-checked once with an independent Python hashlib implementation of the documented layout.
    [Fact]
    public void RecordIdentity_FixedRecord_HasThePinnedValue()
        => Assert.Equal("c0bd2897314d02622cdc8d356679302c", RecordIdentity.Compute(Sample()));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(600, 70_000)] // a head too large for the stack buffer, and a large banner
    [InlineData(9, 1)]
    public void RecordIdentity_AgreesWithTheDocumentedLayoutHashedInOneGo(int scannerLength, int dataLength)
    {
        var record = Sample();
        record.Scanner = new string('s', scannerLength);
        record.Data = ByteString.CopyFrom([.. Enumerable.Range(0, dataLength).Select(i => (byte)(i * 7))]);
        var layout = new List<byte>();
        void Int(long value, int bytes)
        {
            for (var b = bytes - 1; b >= 0; b--)
            {
                layout.Add((byte)(value >> (8 * b)));
            }
        }

        void Text(string value)
        {
            var utf8 = System.Text.Encoding.UTF8.GetBytes(value);
            Int(utf8.Length, 4);
            layout.AddRange(utf8);
        }

        Text(record.Ip);
        Int(record.Port, 4);
        Int((int)record.Transport, 4);
        Int(record.Timestamp.Seconds, 8);
        Int(record.Timestamp.Nanos, 4);
        Int((int)record.Source, 4);
        Text(record.Scanner);
        Int(record.Data.Length, 4);
        layout.AddRange(record.Data.ToByteArray());
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([.. layout])[..16]);

        // Twice: the per-thread hash must come back clean after each identity.
        Assert.Equal(expected, RecordIdentity.Compute(record));
        Assert.Equal(expected, RecordIdentity.Compute(record));
    }

    [Fact]
    public void RecordIdentity_EnrichmentDoesNotChangeIt()
    {
        var enriched = Sample();
        enriched.Location = new Location { CountryCode = "US" };
        enriched.Asn = "AS64496";
        enriched.Hostnames.Add("www.example.com");
        enriched.Product = "nginx";
        Assert.Equal(RecordIdentity.Compute(Sample()), RecordIdentity.Compute(enriched));
    }

    [Theory]
    [InlineData("data")]
    [InlineData("timestamp")]
    [InlineData("port")]
    [InlineData("source")]
    public void RecordIdentity_ObservationFieldChange_ChangesIt(string field)
    {
        var other = Sample();
        switch (field)
        {
            case "data":
                other.Data = ByteString.CopyFromUtf8("HTTP/1.1 404 Not Found\r\n");
                break;
            case "timestamp":
                other.Timestamp = Timestamp.FromDateTime(new DateTime(2026, 1, 2, 3, 4, 6, DateTimeKind.Utc));
                break;
            case "port":
                other.Port = 8443;
                break;
            case "source":
                other.Source = RecordSource.Import;
                break;
        }

        Assert.NotEqual(RecordIdentity.Compute(Sample()), RecordIdentity.Compute(other));
    }

    [Theory]
    [InlineData("192.0.2.1", 80, Transport.Tcp, "192.0.2.1:80/tcp")]
    [InlineData("2001:db8::1", 53, Transport.Udp, "[2001:db8::1]:53/udp")]
    public void ServiceKey_Format_IsPinnedAndRoundTrips(string ip, int port, Transport transport, string text)
    {
        var key = new ServiceKey(IPAddress.Parse(ip), port, transport);
        Assert.Equal(text, key.ToString());
        Assert.True(ServiceKey.TryParse(text, out var parsed));
        Assert.Equal(key, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.3.4:80")]
    [InlineData("1.2.3.4:0/tcp")]
    [InlineData("1.2.3.4:70000/tcp")]
    [InlineData("1.2.3.4:80/sctp")]
    [InlineData("nothost:80/tcp")]
    public void ServiceKey_Malformed_IsAMiss(string text) => Assert.False(ServiceKey.TryParse(text, out _));
}
