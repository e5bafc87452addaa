using System.Net;
using ExposureIndex.GeoIp.Tests.Support;
using ExposureIndex.TestCommon;

namespace ExposureIndex.GeoIp.Tests;

/// <summary>
/// Corrupt and hostile files must end in <see cref="MmdbFormatException"/> (or a clean answer where the file is
/// valid after all) - never another exception type, never a hang, never a read outside the file.
/// </summary>
public sealed class CorruptDatabaseTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    // Fixtures under bad-data/ that are valid databases by the spec (MaxMind's bad-data README and reader suites
    // accept them): an empty container last in the metadata, and build_epoch = UINT64_MAX.
    private static readonly HashSet<string> ValidDespiteTheFolder =
    [
        "libmaxminddb-empty-array-last-in-metadata.mmdb",
        "libmaxminddb-empty-map-last-in-metadata.mmdb",
        "libmaxminddb-uint64-max-epoch.mmdb",
    ];

    private static readonly string[] Spread =
    [
        "0.0.0.0", "1.1.1.1", "1.1.1.16", "1.1.1.32", "1.2.3.4", "81.2.69.160", "128.0.0.0", "163.254.149.39", "200.0.2.1",
        "255.255.255.255", "::", "::1.1.1.1", "::ffff:1.1.1.1", "2001:220::", "2001:218::1", "2a02:cf40::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ];

    public static TheoryData<string> CorruptFiles()
    {
        var data = new TheoryData<string>();
        var root = TestData.Directory;
        if (!Directory.Exists(root))
        {
            data.Add("(test data missing)");
            return data;
        }

        foreach (var file in Directory.GetFiles(Path.Combine(root, "bad-data"), "*.mmdb", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(root, file));
        }

        foreach (var file in Directory.GetFiles(root, "*.mmdb").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            if (name.Contains("Broken", StringComparison.OrdinalIgnoreCase) || name.Contains("Invalid", StringComparison.OrdinalIgnoreCase))
            {
                data.Add(name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void OpenVerifyLookup_CorruptFile_EndsInFormatExceptionOrCleanAnswer(string relativePath)
    {
        var path = TestData.File(relativePath);
        var valid = ValidDespiteTheFolder.Contains(Path.GetFileName(path));

        var outcome = RunBounded(() => Exercise(() => MmdbReader.Open(path)));
        Assert.Empty(outcome.Unexpected);

        if (valid)
        {
            Assert.True(outcome.OpenError is null && outcome.VerifyError is null, $"{relativePath}: {outcome.OpenError?.Message ?? outcome.VerifyError?.Message}");
            Assert.Empty(outcome.LookupErrors);
        }
        else
        {
            var error = outcome.OpenError ?? outcome.VerifyError;
            Assert.True(error is not null, $"{relativePath} was accepted by Verify");
            Assert.StartsWith("MMDB ", error.Message, StringComparison.Ordinal);
        }

        // GeoDatabase.Open verifies too, so a corrupt file never reaches service.
        var geo = RunBounded(() => Capture(() => GeoDatabase.Open(path).Dispose()));
        Assert.Equal(valid, geo is null);
    }

    [Fact]
    public void Lookup_BrokenPointers_NamesTheSearchTreeOrTheDataSection()
    {
        using var reader = MmdbReader.Open(TestData.File("MaxMind-DB-test-broken-pointers-24.mmdb"));

        var tree = Assert.Throws<MmdbFormatException>(() => reader.Lookup(IPAddress.Parse("1.1.1.32")));
        Assert.Equal(MmdbSection.SearchTree, tree.Section);
        Assert.Matches(@"^MMDB search tree is corrupt: record value \d+ at node \d+ exceeds node_count \+ 16 \+ data section size", tree.Message);
        Assert.NotNull(tree.Node);

        var data = Assert.Throws<MmdbFormatException>(() => reader.Lookup(IPAddress.Parse("1.1.1.16")));
        Assert.Equal(MmdbSection.DataSection, data.Section);
        Assert.StartsWith("MMDB data section is corrupt at offset", data.Message, StringComparison.Ordinal);

        Assert.Equal("1.1.1.1", reader.Lookup(IPAddress.Parse("1.1.1.1"))!["ip"].AsString());
    }

    [Fact]
    public void Lookup_BrokenDoubleFormat_NamesTheDouble()
    {
        using var reader = MmdbReader.Open(TestData.File("GeoIP2-City-Test-Broken-Double-Format.mmdb"));

        var error = Assert.Throws<MmdbFormatException>(() => reader.Lookup(IPAddress.Parse("2001:220::")));
        Assert.Contains("double has size", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Offset);

        using var geo = new GeoDatabase(MmdbReader.Open(TestData.File("GeoIP2-City-Test-Broken-Double-Format.mmdb")));
        Assert.Throws<MmdbFormatException>(() => geo.TryGetLocation(IPAddress.Parse("2001:220::"), out _));
    }

    [Fact]
    public void Open_InvalidNodeCount_NamesTheMetadata()
    {
        var error = Assert.Throws<MmdbFormatException>(() => MmdbReader.Open(TestData.File("GeoIP2-City-Test-Invalid-Node-Count.mmdb")));

        Assert.Equal(MmdbSection.Metadata, error.Section);
        Assert.Contains("node_count 100000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_BrokenSearchTree_ReportsTheCycle()
    {
        using var reader = MmdbReader.Open(TestData.File("MaxMind-DB-test-broken-search-tree-24.mmdb"));

        var error = Assert.Throws<MmdbFormatException>(reader.Verify);
        Assert.Equal(MmdbSection.SearchTree, error.Section);
        Assert.Contains("root node", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_Uint64MaxEpoch_KeepsTheEpochWithoutADate()
    {
        using var reader = MmdbReader.Open(TestData.File("bad-data/libmaxminddb/libmaxminddb-uint64-max-epoch.mmdb"));

        Assert.Equal(ulong.MaxValue, reader.Metadata.BuildEpoch);
        Assert.Null(reader.Metadata.BuildTime);
    }

    [Fact]
    public void Decode_PointerFanOut_HitsTheValueLimitQuickly()
    {
        // 40 levels of arrays each holding two pointers to the level below: 2^40 leaves for a naive decoder.
        var data = new List<byte> { 0xA0 };
        var previous = 0;
        for (var level = 0; level < 40; level++)
        {
            var offset = data.Count;
            data.AddRange([0x02, 0x04]);
            data.AddRange(MmdbWriter.EncodePointer(previous, 0));
            data.AddRange(MmdbWriter.EncodePointer(previous, 0));
            previous = offset;
        }

        var bytes = SingleRecordDatabase([.. data], previous);

        var error = RunBounded(() => Capture(() =>
        {
            using var reader = MmdbReader.FromBytes(bytes);
            reader.Lookup(IPAddress.Parse("1.1.1.1"));
        }));
        Assert.IsType<MmdbFormatException>(error);
        Assert.Contains("decoder limit", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Decode_PayloadAmplification_HitsThePayloadLimit(int scalarType)
    {
        // 8192 pointers to one 65,535-byte value would materialise 512 MiB.
        var data = new List<byte>();
        MmdbWriter.Header(data, scalarType, 65535);
        data.AddRange(Enumerable.Repeat((byte)'a', 65535));
        var top = data.Count;
        MmdbWriter.Header(data, 11, 8192);
        for (var i = 0; i < 8192; i++)
        {
            data.AddRange(MmdbWriter.EncodePointer(0, 0));
        }

        using var reader = MmdbReader.FromBytes(SingleRecordDatabase([.. data], top));
        var error = Assert.Throws<MmdbFormatException>(() => reader.Lookup(IPAddress.Parse("1.1.1.1")));
        Assert.Contains("bytes of strings and bytes", error.Message, StringComparison.Ordinal);
        Assert.Throws<MmdbFormatException>(reader.Verify);
    }

    public static TheoryData<string, byte[], string> HostileRecords() => new()
    {
        { "pointer to a pointer", [.. MmdbWriter.EncodePointer(2, 0), .. MmdbWriter.EncodePointer(0, 0)], "points to another pointer" },
        { "pointer past the section", [.. MmdbWriter.EncodePointer(0x7FFFFFFF, 3)], "outside the data section" },
        { "map pointing at itself", [0xE1, 0x41, (byte)'a', .. MmdbWriter.EncodePointer(0, 0)], "deeper than 512" },
        { "extended type 7", [0x00, 0x00], "not an extended type" },
        { "extended type 16", [0x00, 0x09], "not an extended type" },
        { "data cache container", [0x00, 0x05], "data cache container cannot appear" },
        { "end marker", [0x00, 0x06], "end marker cannot appear" },
        { "boolean of size 2", [0x02, 0x07], "boolean has size 2" },
        { "uint16 of 3 bytes", [0xA3, 1, 2, 3], "uint16 has size 3" },
        { "uint128 of 17 bytes", [0x11, 0x03, .. new byte[17]], "uint128 has size 17" },
        { "float of 8 bytes", [0x08, 0x08, .. new byte[8]], "float has size 8" },
        { "string past the end", [0x5F, 0xFF, 0xFF, 0xFF], "runs past the end" },
        { "invalid UTF-8", [0x42, 0xC3, 0x28], "not valid UTF-8" },
        { "map key not a string", [0xE1, 0xC1, 0x01, 0xC1, 0x02], "map key is a uint32" },
        { "array claiming 16M items", [0x1F, 0x04, 0xFF, 0xFF, 0xFF], "cannot fit" },
        { "truncated size bytes", [0x5E, 0x01], "runs past the end" },
        { "truncated pointer", [0x38, 0x00], "runs past the end" },
    };

    [Theory]
    [MemberData(nameof(HostileRecords))]
    public void Lookup_HostileRecord_NamesTheProblem(string what, byte[] record, string expected)
    {
        using var reader = MmdbReader.FromBytes(SingleRecordDatabase(record, 0));

        var lookup = Assert.Throws<MmdbFormatException>(() => reader.Lookup(IPAddress.Parse("1.1.1.1")));
        Assert.Contains(expected, lookup.Message, StringComparison.Ordinal);
        Assert.Equal(MmdbSection.DataSection, lookup.Section);
        Assert.Throws<MmdbFormatException>(reader.Verify);

        // The typed path reads the same bytes and must fail the same way, not differently.
        using var geo = new GeoDatabase(MmdbReader.FromBytes(SingleRecordDatabase(record, 0)), new GeoDatabaseOptions { Kind = GeoDatabaseKind.Enterprise });
        var typed = Capture(() => geo.TryGetLocation(IPAddress.Parse("1.1.1.1"), out _));
        Assert.True(typed is null or MmdbFormatException, $"{what}: {typed}");
    }

    public static TheoryData<string, object?, string> HostileMetadata() => new()
    {
        { "record_size", (ushort)26, "record_size 26 is not supported" },
        { "ip_version", (ushort)5, "ip_version 5" },
        { "binary_format_major_version", (ushort)3, "binary_format_major_version 3" },
        { "node_count", null, "required key 'node_count' is missing" },
        { "node_count", "12", "node_count is a String" },
        { "node_count", 0u, "node_count is 0" },
        { "database_type", 7u, "database_type is a UInt32" },
        { "languages", "en", "languages is a String" },
        { "description", new object[] { "x" }, "description is a Array" },
        { "build_epoch", -1, "build_epoch is a Int32" },
    };

    [Theory]
    [MemberData(nameof(HostileMetadata))]
    public void Open_HostileMetadata_NamesTheKey(string key, object? value, string expected)
    {
        var writer = new MmdbWriter(4, 24);
        writer.Insert("1.0.0.0/8", "x");
        writer.MetadataOverrides[key] = value;

        var error = Assert.Throws<MmdbFormatException>(() => MmdbReader.FromBytes(writer.Build()));
        Assert.Equal(MmdbSection.Metadata, error.Section);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_LastMarkerWins_AndAMarkerOutsideTheLast128KiBIsIgnored()
    {
        // A marker inside the data section (a bytes value) must not be mistaken for the metadata start.
        var writer = new MmdbWriter(4, 24);
        writer.Insert("1.0.0.0/8", MmdbWriter.MetadataMarker);
        using (var reader = MmdbReader.FromBytes(writer.Build()))
        {
            Assert.Equal(MmdbWriter.MetadataMarker, reader.Lookup(IPAddress.Parse("1.2.3.4"))!.AsBytes().ToArray());
        }

        var far = new List<byte>(writer.Build());
        far.AddRange(new byte[200 * 1024]);
        var error = Assert.Throws<MmdbFormatException>(() => MmdbReader.FromBytes(far.ToArray()));
        Assert.Contains("marker", error.Message, StringComparison.Ordinal);
        Assert.Throws<MmdbFormatException>(() => MmdbReader.FromBytes([]));
    }

    [Theory]
    [InlineData("MaxMind-DB-test-decoder.mmdb")]
    [InlineData("MaxMind-DB-test-mixed-28.mmdb")]
    public void OpenVerifyLookup_EveryTruncation_EndsInFormatExceptionOrCleanAnswer(string name)
    {
        var bytes = File.ReadAllBytes(TestData.File(name));
        var failures = RunBounded(() =>
        {
            var bad = new List<string>();
            for (var length = 0; length < bytes.Length; length++)
            {
                var outcome = Exercise(() => MmdbReader.FromBytes(bytes.AsSpan(0, length)));
                bad.AddRange(outcome.Unexpected.Select(e => $"length {length}: {e}"));
            }

            return bad;
        });

        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("GeoIP2-City-Test.mmdb", 1)]
    [InlineData("GeoLite2-ASN-Test.mmdb", 2)]
    [InlineData("MaxMind-DB-test-decoder.mmdb", 3)]
    [InlineData("MaxMind-DB-test-metadata-pointers.mmdb", 4)]
    public void OpenVerifyLookup_RandomByteFlips_EndInFormatExceptionOrCleanAnswer(string name, int seed)
    {
        var original = File.ReadAllBytes(TestData.File(name));
        var random = new Random(seed);
        var failures = RunBounded(() =>
        {
            var bad = new List<string>();
            for (var round = 0; round < 300; round++)
            {
                var mutant = (byte[])original.Clone();
                var flips = random.Next(1, 9);
                for (var i = 0; i < flips; i++)
                {
                    // Half the flips land in the metadata and the last data bytes, where structure is dense.
                    var at = i % 2 == 0 ? random.Next(mutant.Length) : mutant.Length - 1 - random.Next(Math.Min(mutant.Length, 600));
                    mutant[at] = (byte)random.Next(256);
                }

                var outcome = Exercise(() => MmdbReader.FromBytes(mutant));
                bad.AddRange(outcome.Unexpected.Select(e => $"round {round}: {e}"));
            }

            return bad;
        });

        Assert.Empty(failures);
    }

    /// <summary>An IPv4 database whose single node sends every address to the record at <paramref name="recordOffset"/>.</summary>
    internal static byte[] SingleRecordDatabase(byte[] data, int recordOffset)
    {
        const uint nodeCount = 1;
        var record = nodeCount + 16 + (uint)recordOffset;
        var file = new List<byte>
        {
            (byte)(record >> 16), (byte)(record >> 8), (byte)record,
            (byte)(record >> 16), (byte)(record >> 8), (byte)record,
        };
        file.AddRange(new byte[16]);
        file.AddRange(data);
        file.AddRange(MmdbWriter.MetadataMarker);
        MmdbWriter.Encode(file, new Map(
            ("node_count", nodeCount),
            ("record_size", (ushort)24),
            ("ip_version", (ushort)4),
            ("database_type", "Hostile"),
            ("binary_format_major_version", (ushort)2),
            ("binary_format_minor_version", (ushort)0),
            ("build_epoch", 1_000_000_000UL)));
        return [.. file];
    }

    private static Outcome Exercise(Func<MmdbReader> open)
    {
        var outcome = new Outcome();
        MmdbReader reader;
        try
        {
            reader = open();
        }
        catch (Exception ex)
        {
            outcome.Record(ex, isOpen: true);
            return outcome;
        }

        using (reader)
        {
            try
            {
                reader.Verify();
            }
            catch (Exception ex)
            {
                outcome.Record(ex, isOpen: false);
            }

            // The typed path reads records its own way; exercise it too (it owns the reader; disposing twice is fine).
            var geo = new GeoDatabase(reader, new GeoDatabaseOptions { Kind = GeoDatabaseKind.Enterprise, CacheSize = 0 });
            foreach (var address in Spread)
            {
                var ip = IPAddress.Parse(address);
                foreach (var lookup in new Action[]
                {
                    () => reader.TryLookup(ip, out _, out _),
                    () => geo.TryGetLocation(ip, out _),
                    () => geo.TryGetNetworkOwner(ip, out _),
                })
                {
                    try
                    {
                        lookup();
                    }
                    catch (Exception ex)
                    {
                        outcome.RecordLookup(address, ex);
                    }
                }
            }
        }

        return outcome;
    }

    private static Exception? Capture(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private static T RunBounded<T>(Func<T> work)
    {
        var task = Task.Run(work);
        if (!task.Wait(Limit, TestContext.Current.CancellationToken))
        {
            Assert.Fail($"Did not finish within {Limit} (a hang on hostile input).");
        }

        return task.Result;
    }

    private sealed class Outcome
    {
        public MmdbFormatException? OpenError { get; private set; }

        public MmdbFormatException? VerifyError { get; private set; }

        public List<string> LookupErrors { get; } = [];

        public List<string> Unexpected { get; } = [];

        public void Record(Exception error, bool isOpen)
        {
            if (error is MmdbFormatException format)
            {
                if (isOpen)
                {
                    OpenError = format;
                }
                else
                {
                    VerifyError = format;
                }
            }
            else
            {
                Unexpected.Add($"{(isOpen ? "open" : "verify")}: {error}");
            }
        }

        public void RecordLookup(string address, Exception error)
        {
            LookupErrors.Add($"{address}: {error.Message}");
            if (error is not MmdbFormatException)
            {
                Unexpected.Add($"lookup {address}: {error}");
            }
        }
    }
}
