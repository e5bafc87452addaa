using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using ExposureIndex.GeoIp.Tests.Support;
using ExposureIndex.TestCommon;

namespace ExposureIndex.GeoIp.Tests;

/// <summary>
/// Compares whole decoded records and prefix lengths with libmaxminddb's mmdblookup (Debian mmdb-bin), an
/// independent reader: its dump is parsed into a tree of (type, text) and our MmdbValue is rendered the same way.
/// </summary>
public sealed partial class MmdblookupComparisonTests
{
    public static TheoryData<string> Databases() =>
    [
        "GeoIP2-City-Test.mmdb", "GeoIP2-Country-Test.mmdb", "GeoLite2-ASN-Test.mmdb", "GeoIP2-ISP-Test.mmdb",
        "GeoIP2-Enterprise-Test.mmdb", "GeoIP2-Anonymous-IP-Test.mmdb", "GeoIP2-Domain-Test.mmdb", "GeoIP2-Connection-Type-Test.mmdb",
        "GeoIP2-Static-IP-Score-Test.mmdb", "MaxMind-DB-test-decoder.mmdb", "MaxMind-DB-test-nested.mmdb", "MaxMind-DB-test-ipv4-28.mmdb",
        "MaxMind-DB-test-mixed-32.mmdb", "MaxMind-DB-no-ipv4-search-tree.mmdb", "MaxMind-DB-string-value-entries.mmdb",
    ];

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Lookup_SampleAddresses_MatchMmdblookup(string database)
    {
        var mmdblookup = Requires.Executable("mmdblookup", "mmdb-bin");
        var path = TestData.File(database);
        using var reader = MmdbReader.Open(path);

        // Hits first (up to 20), then a few misses, from the JSON networks and a fixed random spread.
        var hits = new List<IPAddress>();
        var misses = new List<IPAddress>();
        foreach (var address in GeoDatabaseTests.SampleAddresses(reader).Concat(DecoderAddresses))
        {
            var isHit = reader.TryLookup(address, out _, out _);
            var bucket = isHit ? hits : misses;
            if (bucket.Count < (isHit ? 20 : 4) && !bucket.Contains(address))
            {
                bucket.Add(address);
            }
        }

        Assert.NotEmpty(hits);
        var compared = 0;
        foreach (var address in hits.Concat(misses))
        {
            var (exitCode, output) = await RunAsync(mmdblookup, path, address);
            var found = reader.TryLookup(address, out var record, out var prefix);

            if (reader.Metadata.IpVersion == 4 && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                // libmaxminddb calls this an error; we document it as a miss with prefix length 0.
                Assert.Contains("IPv6 address in an IPv4-only database", output, StringComparison.Ordinal);
                Assert.False(found);
                Assert.Equal(0, prefix);
                continue;
            }

            var theirPrefix = PrefixLine().Match(output);
            Assert.True(theirPrefix.Success, $"{database} {address}: no prefix line in\n{output}");
            Assert.Equal(int.Parse(theirPrefix.Groups[1].Value, CultureInfo.InvariantCulture), ExpectedLibmaxminddbPrefix(reader, address, prefix));

            if (!found)
            {
                Assert.Contains("Could not find an entry", output, StringComparison.Ordinal);
                continue;
            }

            Assert.Equal(0, exitCode);
            var theirs = Dump.Parse(output[(theirPrefix.Index + theirPrefix.Length)..]);
            Assert.Equal(theirs.ToString(), Dump.From(record!).ToString());
            compared++;
        }

        Assert.True(compared >= Math.Min(hits.Count, 5), $"{database}: compared {compared} records");
    }

    private static readonly IPAddress[] DecoderAddresses = [.. new[] { "1.1.1.0", "::", "::255.255.255.255", "1.1.1.1", "1.1.1.3", "::1.1.1.1", "::2:0:0", "200.0.2.1" }.Select(IPAddress.Parse)];

    /// <summary>libmaxminddb counts bits from the root of an IPv6 tree even for IPv4 queries (and maps ::ffff:a.b.c.d nowhere special).</summary>
    private static int ExpectedLibmaxminddbPrefix(MmdbReader reader, IPAddress address, int ours)
    {
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || reader.Metadata.IpVersion != 6)
        {
            return ours;
        }

        // Our IPv4 prefix counts from the IPv4 start node; when that node sits above depth 96 we report 0.
        using var probe = MmdbReader.Open(reader.Source);
        var compatible = new byte[16];
        address.GetAddressBytes().CopyTo(compatible, 12);
        probe.TryLookupOffset(compatible, out _, out var viaIpv6);
        return viaIpv6;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string mmdblookup, string database, IPAddress address)
    {
        var start = new ProcessStartInfo(mmdblookup)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("--file");
        start.ArgumentList.Add(database);
        start.ArgumentList.Add("--ip");
        start.ArgumentList.Add(address.ToString());
        start.ArgumentList.Add("--verbose");
        using var process = Process.Start(start)!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"Record prefix length: (\d+)")]
    private static partial Regex PrefixLine();

    /// <summary>A decoded value as mmdblookup prints it: maps and arrays of (type, text) scalars.</summary>
    private abstract record Dump
    {
        public static Dump Parse(string output)
        {
            var lines = output.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            var position = 0;
            var value = ParseValue(lines, ref position);
            Assert.True(position == lines.Count, $"unparsed mmdblookup output from line {position}: {string.Join(" | ", lines.Skip(position))}");
            return value;
        }

        public static Dump From(MmdbValue value) => value.Kind switch
        {
            MmdbValueKind.Map => new MapDump([.. value.Entries.Select(e => (e.Key, From(e.Value)))]),
            MmdbValueKind.Array => new ArrayDump([.. value.Items.Select(From)]),
            MmdbValueKind.String => new Scalar("utf8_string", "\"" + value.AsString() + "\""),
            MmdbValueKind.Double => new Scalar("double", C(value.AsDouble())),
            MmdbValueKind.Float => new Scalar("float", C(value.AsFloat())),
            MmdbValueKind.Bytes => new Scalar("bytes", Convert.ToHexString(value.AsBytes().Span)),
            MmdbValueKind.Boolean => new Scalar("boolean", value.AsBoolean() ? "true" : "false"),
            MmdbValueKind.Int32 => new Scalar("int32", value.AsInt64().ToString(CultureInfo.InvariantCulture)),
            MmdbValueKind.UInt16 => new Scalar("uint16", value.AsUInt64().ToString(CultureInfo.InvariantCulture)),
            MmdbValueKind.UInt32 => new Scalar("uint32", value.AsUInt64().ToString(CultureInfo.InvariantCulture)),
            MmdbValueKind.UInt64 => new Scalar("uint64", value.AsUInt64().ToString(CultureInfo.InvariantCulture)),
            _ => new Scalar("uint128", "0x" + value.AsUInt128().ToString("X32", CultureInfo.InvariantCulture)),
        };

        // printf("%f"): six decimals; infinities and NaN as C spells them.
        private static string C(double value) =>
            double.IsPositiveInfinity(value) ? "inf" : double.IsNegativeInfinity(value) ? "-inf" : double.IsNaN(value) ? "nan"
            : value.ToString("F6", CultureInfo.InvariantCulture);

        private static Dump ParseValue(List<string> lines, ref int position)
        {
            var line = lines[position++];
            if (line == "{")
            {
                var entries = new List<(string, Dump)>();
                while (lines[position] != "}")
                {
                    var key = lines[position++];
                    Assert.True(key.StartsWith('"') && key.EndsWith("\":", StringComparison.Ordinal), $"bad key line {key}");
                    entries.Add((key[1..^2], ParseValue(lines, ref position)));
                }

                position++;
                return new MapDump(entries);
            }

            if (line == "[")
            {
                var items = new List<Dump>();
                while (lines[position] != "]")
                {
                    items.Add(ParseValue(lines, ref position));
                }

                position++;
                return new ArrayDump(items);
            }

            var typeStart = line.LastIndexOf(" <", StringComparison.Ordinal);
            if (typeStart < 0)
            {
                // An empty bytes value prints as " <bytes>", which Trim() shortened.
                Assert.StartsWith("<", line, StringComparison.Ordinal);
                return new Scalar(line[1..^1], string.Empty);
            }

            return new Scalar(line[(typeStart + 2)..^1], line[..typeStart]);
        }
    }

    private sealed record Scalar(string Type, string Text) : Dump
    {
        public override string ToString() => $"{Text} <{Type}>";
    }

    private sealed record MapDump(List<(string Key, Dump Value)> Entries) : Dump
    {
        public override string ToString() => "{" + string.Join(", ", Entries.Select(e => $"\"{e.Key}\": {e.Value}")) + "}";
    }

    private sealed record ArrayDump(List<Dump> Items) : Dump
    {
        public override string ToString() => "[" + string.Join(", ", Items) + "]";
    }
}
