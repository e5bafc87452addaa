using System.Net;
using System.Numerics;
using ExposureIndex.GeoIp.Tests.Support;

namespace ExposureIndex.GeoIp.Tests;

public sealed class DecoderTests
{
    [Theory]
    [InlineData("1.1.1.0")]
    [InlineData("::1.1.1.0")]
    [InlineData("1.1.1.1")]
    public void Lookup_DecoderDatabase_DecodesEveryType(string address)
    {
        using var reader = MmdbReader.Open(TestData.File("MaxMind-DB-test-decoder.mmdb"));
        var record = reader.Lookup(IPAddress.Parse(address))!;

        Assert.True(record["boolean"].AsBoolean());
        Assert.Equal(MmdbValueKind.Boolean, record["boolean"].Kind);
        Assert.Equal(new byte[] { 0, 0, 0, 42 }, record["bytes"].AsBytes().ToArray());
        Assert.Equal("unicode! \u262F - \u266B", record["utf8_string"].AsString());

        var array = record["array"];
        Assert.Equal(MmdbValueKind.Array, array.Kind);
        Assert.Equal([1L, 2L, 3L], array.Items.Select(i => i.AsInt64()));
        Assert.All(array.Items, i => Assert.Equal(MmdbValueKind.UInt32, i.Kind));

        var map = record["map"];
        Assert.Equal(1, map.Count);
        var mapX = map["mapX"];
        Assert.Equal(2, mapX.Count);
        Assert.Equal("hello", mapX["utf8_stringX"].AsString());
        Assert.Equal([7L, 8L, 9L], mapX["arrayX"].Items.Select(i => i.AsInt64()));

        Assert.Equal(MmdbValueKind.Double, record["double"].Kind);
        Assert.Equal(42.123456, record["double"].AsDouble(), 9);
        Assert.Equal(MmdbValueKind.Float, record["float"].Kind);
        Assert.Equal(1.1f, record["float"].AsFloat(), 5);
        Assert.Equal(MmdbValueKind.Int32, record["int32"].Kind);
        Assert.Equal(-268435456, record["int32"].AsInt64());
        Assert.Equal(MmdbValueKind.UInt16, record["uint16"].Kind);
        Assert.Equal(100UL, record["uint16"].AsUInt64());
        Assert.Equal(MmdbValueKind.UInt32, record["uint32"].Kind);
        Assert.Equal(268435456UL, record["uint32"].AsUInt64());
        Assert.Equal(MmdbValueKind.UInt64, record["uint64"].Kind);
        Assert.Equal(1152921504606846976UL, record["uint64"].AsUInt64());
        Assert.Equal(MmdbValueKind.UInt128, record["uint128"].Kind);
        Assert.Equal(BigInteger.Parse("1329227995784915872903807060280344576", System.Globalization.CultureInfo.InvariantCulture), record["uint128"].AsBigInteger());
        Assert.Equal(UInt128.One << 120, record["uint128"].AsUInt128());
    }

    [Fact]
    public void Lookup_DecoderDatabaseZeroRecord_DecodesZeroValues()
    {
        using var reader = MmdbReader.Open(TestData.File("MaxMind-DB-test-decoder.mmdb"));
        var record = reader.Lookup(IPAddress.Parse("::"))!;

        Assert.False(record["boolean"].AsBoolean());
        Assert.Equal(0, record["bytes"].AsBytes().Length);
        Assert.Equal(string.Empty, record["utf8_string"].AsString());
        Assert.Equal(0, record["array"].Count);
        Assert.True(record["array"].IsArray);
        Assert.Equal(0, record["map"].Count);
        Assert.True(record["map"].IsMap);
        Assert.Equal(0.0, record["double"].AsDouble());
        Assert.Equal(0f, record["float"].AsFloat());
        Assert.Equal(0, record["int32"].AsInt64());
        Assert.Equal(0UL, record["uint16"].AsUInt64());
        Assert.Equal(0UL, record["uint32"].AsUInt64());
        Assert.Equal(0UL, record["uint64"].AsUInt64());
        Assert.Equal(BigInteger.Zero, record["uint128"].AsBigInteger());
    }

    [Fact]
    public void Lookup_DecoderDatabaseMaxRecord_DecodesTypeMaxima()
    {
        using var reader = MmdbReader.Open(TestData.File("MaxMind-DB-test-decoder.mmdb"));
        var record = reader.Lookup(IPAddress.Parse("::255.255.255.255"))!;

        Assert.Equal(double.PositiveInfinity, record["double"].AsDouble());
        Assert.Equal(float.PositiveInfinity, record["float"].AsFloat());
        Assert.Equal(int.MaxValue, record["int32"].AsInt64());
        Assert.Equal(ushort.MaxValue, record["uint16"].AsUInt64());
        Assert.Equal(uint.MaxValue, record["uint32"].AsUInt64());
        Assert.Equal(ulong.MaxValue, record["uint64"].AsUInt64());
        Assert.Equal(UInt128.MaxValue, record["uint128"].AsUInt128());
        Assert.Throws<OverflowException>(() => record["uint64"].AsInt64());
        Assert.Throws<OverflowException>(() => record["uint128"].AsUInt64());
    }

    [Fact]
    public void Lookup_NestedDatabase_FollowsMapsAndArrays()
    {
        using var reader = MmdbReader.Open(TestData.File("MaxMind-DB-test-nested.mmdb"));
        var record = reader.Lookup(IPAddress.Parse("1.1.1.1"))!;

        Assert.True(record.TryGetPath(out var c, "map1", "map2", "array", "0", "map3", "c"));
        Assert.Equal(3L, c.AsInt64());
        Assert.False(record.TryGetPath(out _, "map1", "map2", "array", "1"));
        Assert.False(record.TryGetPath(out _, "map1", "nope"));
        Assert.Null(record.GetString("map1", "map2"));
    }

    [Theory]
    [InlineData(0, 100)]
    [InlineData(1, 3_000)]
    [InlineData(2, 600_000)]
    [InlineData(3, 600_000)]
    [InlineData(3, 5)]
    public void Decode_PointerOfEachForm_ResolvesRelativeToTheDataSection(int form, int targetOffset)
    {
        // A string sits at targetOffset inside the data section; the record is a map whose value points at it.
        var padding = MmdbWriter.EncodeValue(new byte[targetOffset - 4]);
        var prefix = new List<byte>(padding);
        while (prefix.Count < targetOffset)
        {
            prefix.Add(0xA0); // uint16 with size 0 as filler
        }

        prefix.AddRange(MmdbWriter.EncodeValue("pointed-at"));
        var writer = new MmdbWriter(4, 24) { DataPrefix = [.. prefix] };
        writer.Insert("0.0.0.0/1", new Map(("value", new Pointer(targetOffset, form)), ("after", "still read")));

        using var reader = MmdbReader.FromBytes(writer.Build());
        var record = reader.Lookup(IPAddress.Parse("1.2.3.4"))!;

        Assert.Equal("pointed-at", record["value"].AsString());
        Assert.Equal("still read", record["after"].AsString());
        reader.Verify();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(28)]
    [InlineData(29)]
    [InlineData(80)]
    [InlineData(284)]
    [InlineData(285)]
    [InlineData(13_392)]
    [InlineData(65_820)]
    [InlineData(65_821)]
    [InlineData(100_000)]
    public void Decode_EverySizeEncoding_ReadsTheWholePayload(int length)
    {
        var text = new string('x', length);
        var bytes = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        var writer = new MmdbWriter(4, 28);
        writer.Insert("0.0.0.0/1", new Map(("s", text), ("b", bytes)));

        using var reader = MmdbReader.FromBytes(writer.Build());
        var record = reader.Lookup(IPAddress.Parse("1.1.1.1"))!;

        Assert.Equal(text, record["s"].AsString());
        Assert.Equal(bytes, record["b"].AsBytes().ToArray());
    }

    [Fact]
    public void Decode_ShortIntegersAndExtendedTypes_DecodeToTheirKinds()
    {
        // Hand-encoded: uint32 in 1 byte, int32 in 1 byte (read as its low byte, like libmaxminddb), uint64 in
        // 3 bytes, uint128 in 0 bytes, and a boolean; each extended type carries its second type byte.
        var record = new Map(
            ("u32", new Raw([0xC1, 0xFF])),
            ("i32", new Raw([0x01, 0x01, 0xFF])),
            ("u64", new Raw([0x03, 0x02, 0x01, 0x00, 0x00])),
            ("u128", new Raw([0x00, 0x03])),
            ("t", new Raw([0x01, 0x07])),
            ("many", new Map([.. Enumerable.Range(0, 20).Select(i => new KeyValuePair<string, object>($"k{i}", (uint)i))])));
        var writer = new MmdbWriter(4, 32);
        writer.Insert("128.0.0.0/1", record);

        using var reader = MmdbReader.FromBytes(writer.Build());
        var value = reader.Lookup(IPAddress.Parse("200.1.1.1"))!;

        Assert.Equal(255UL, value["u32"].AsUInt64());
        Assert.Equal(MmdbValueKind.Int32, value["i32"].Kind);
        Assert.Equal(255L, value["i32"].AsInt64());
        Assert.Equal(65536UL, value["u64"].AsUInt64());
        Assert.Equal(UInt128.Zero, value["u128"].AsUInt128());
        Assert.True(value["t"].AsBoolean());
        Assert.Equal(19UL, value["many"]["k19"].AsUInt64());
        Assert.True(value["many"].TryGetValue("k0", out var k0));
        Assert.Equal(0UL, k0.AsUInt64());
        Assert.False(value["many"].TryGetValue("k20", out _));
        Assert.Null(reader.Lookup(IPAddress.Parse("1.1.1.1")));
    }

    [Fact]
    public void ToString_DecodedRecord_IsJson()
    {
        using var reader = MmdbReader.Open(TestData.File("MaxMind-DB-test-decoder.mmdb"));
        var json = reader.Lookup(IPAddress.Parse("1.1.1.1"))!.ToString();
        using var document = System.Text.Json.JsonDocument.Parse(json);

        Assert.Equal("hello", document.RootElement.GetProperty("map").GetProperty("mapX").GetProperty("utf8_stringX").GetString());
        Assert.Equal("AAAAKg==", document.RootElement.GetProperty("bytes").GetString());
        Assert.Equal("1329227995784915872903807060280344576", document.RootElement.GetProperty("uint128").GetRawText());

        var max = reader.Lookup(IPAddress.Parse("::255.255.255.255"))!.ToString();
        using var maxDocument = System.Text.Json.JsonDocument.Parse(max);
        Assert.Equal("Infinity", maxDocument.RootElement.GetProperty("double").GetString());
        Assert.Equal("18446744073709551615", maxDocument.RootElement.GetProperty("uint64").GetRawText());
    }

    [Fact]
    public void Accessors_WrongKind_ThrowInvalidOperation()
    {
        using var reader = MmdbReader.Open(TestData.File("MaxMind-DB-test-decoder.mmdb"));
        var record = reader.Lookup(IPAddress.Parse("1.1.1.1"))!;

        Assert.Throws<InvalidOperationException>(() => record.AsString());
        Assert.Throws<InvalidOperationException>(() => record["utf8_string"].AsInt64());
        Assert.Throws<InvalidOperationException>(() => record["map"][0]);
        Assert.Throws<KeyNotFoundException>(() => record["absent"]);
        Assert.Equal(record, reader.Lookup(IPAddress.Parse("1.1.1.3")));
        Assert.NotEqual(record, reader.Lookup(IPAddress.Parse("::")));
    }

    [Fact]
    public void Decode_RecordsSharingSubMapsThroughPointers_EqualTheInlinedRecords()
    {
        using var source = MmdbReader.Open(TestData.File("GeoIP2-City-Test.mmdb"));
        var inline = new MmdbWriter(6, 32) { DatabaseType = "GeoIP2-City" };
        var shared = new MmdbWriter(6, 32) { DatabaseType = "GeoIP2-City", DeduplicateWithPointers = true };
        var addresses = new List<IPAddress>();
        foreach (var network in TestData.Networks("GeoIP2-City-Test.json"))
        {
            if (source.Lookup(network.Network.BaseAddress) is { } record)
            {
                var value = MmdbWriter.FromMmdb(record);
                inline.Insert(network.Network.ToString(), value);
                shared.Insert(network.Network.ToString(), value);
                addresses.Add(network.Network.BaseAddress);
            }
        }

        var inlineBytes = inline.Build();
        var sharedBytes = shared.Build();
        Assert.True(sharedBytes.Length < inlineBytes.Length / 2, $"{sharedBytes.Length} vs {inlineBytes.Length}");
        using var a = MmdbReader.FromBytes(inlineBytes);
        using var b = MmdbReader.FromBytes(sharedBytes);
        using var typed = new GeoDatabase(MmdbReader.FromBytes(sharedBytes));
        b.Verify();
        foreach (var address in addresses)
        {
            var expected = a.Lookup(address);
            Assert.Equal(expected, b.Lookup(address));
            Assert.Equal(source.Lookup(address), expected);
            Assert.True(typed.TryGetLocation(address, out var location));
            Assert.Equal(GeoDatabaseTests.ReferenceLocation(expected!), location);
        }
    }
}
