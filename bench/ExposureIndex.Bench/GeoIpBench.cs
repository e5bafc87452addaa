using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ExposureIndex.GeoIp;
using ExposureIndex.GeoIp.Tests.Support;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Bench;

/// <summary>
/// bench/geoip: lookups per second of our MMDB reader (src/Indexer/ExposureIndex.GeoIp), one thread, over a fixed
/// list of addresses, for MaxMind's City test database and a City-scale synthetic one built from its records (or
/// for a given .mmdb). The reference, measured in the same run over the same address list: Debian's
/// python3-maxminddb (its C extension over libmaxminddb when present). The two readers' answers (record and
/// prefix length) are compared on a sample of the list.
/// </summary>
internal static class GeoIpBench
{
    private const int AddressCount = 1 << 18;
    private const int Chunk = 8192;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 2);
        var networks = (int)Option(args, "--networks", 1_000_000);
        var sample = (int)Option(args, "--sample", 5000);
        var given = Positional(args, "--seconds", "--networks", "--sample");
        var work = Directory.CreateTempSubdirectory("exposure-bench-geoip-").FullName;
        try
        {
            var databases = new List<(string Label, string Path, IPAddress[] Addresses)>();
            if (given is not null)
            {
                if (!File.Exists(given))
                {
                    Console.Error.WriteLine($"bench/geoip: no database at {given}");
                    return 2;
                }

                databases.Add((Path.GetFileName(given), given, Addresses(given, Path.ChangeExtension(given, ".json"))));
            }
            else
            {
                var city = Path.Combine(RepoPaths.GeoIpTestData, "GeoIP2-City-Test.mmdb");
                if (!File.Exists(city))
                {
                    Console.Error.WriteLine($"bench/geoip: MaxMind's test databases are missing ({city}); set EXPOSUREINDEX_GEOIP_TEST_DIR or pass a .mmdb");
                    return 2;
                }

                databases.Add(("GeoIP2-City-Test.mmdb (MaxMind test data, tiny)", city, Addresses(city, Path.ChangeExtension(city, ".json"))));
                if (networks > 0)
                {
                    var clock = Stopwatch.StartNew();
                    var synthetic = Path.Combine(work, "synthetic-city.mmdb");
                    File.WriteAllBytes(synthetic, BuildCityScaleDatabase(city, networks, distinctRecords: 50_000));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"built a synthetic City database ({networks:N0} IPv4 networks, 50,000 records from the test database's) in {clock.Elapsed.TotalSeconds:F1}s"));
                    databases.Add(($"synthetic City, {networks:N0} IPv4 networks", synthetic, Addresses(synthetic, json: null)));
                }
            }

            var probe = await PythonScripts.RunProcessAsync(RepoPaths.SystemPython, ["-c", "import maxminddb"], null, TimeSpan.FromSeconds(30));
            var python = probe.ExitCode == 0;
            Console.WriteLine($"bench/geoip: one thread, {AddressCount:N0} addresses per database, {seconds:0.#} s per measurement, {Environment.ProcessorCount} cores");
            if (!python)
            {
                Console.WriteLine("reference  python3-maxminddb is absent (apt-get install python3-maxminddb): raw figures only, answers not cross-checked");
            }

            var mismatches = 0;
            foreach (var (label, path, addresses) in databases)
            {
                mismatches += await MeasureAsync(label, path, addresses, work, seconds, python, sample);
            }

            return mismatches == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<int> MeasureAsync(string label, string path, IPAddress[] addresses, string work, double seconds, bool python, int sample)
    {
        Console.WriteLine();
        using var plain = MmdbReader.Open(path);
        var verify = Stopwatch.StartNew();
        plain.Verify();
        var verifyTime = verify.Elapsed;
        var hits = addresses.Count(a => plain.TryLookup(a, out _, out _));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label}: {plain.Metadata.DatabaseType}, IPv{plain.Metadata.IpVersion}, {plain.Metadata.NodeCount:N0} nodes, {new FileInfo(path).Length / 1024:N0} KiB, Verify {verifyTime.TotalMilliseconds:N0} ms; {100.0 * hits / addresses.Length:F1}% of the addresses hit"));

        var addressFile = Path.Combine(work, "addresses.txt");
        await File.WriteAllLinesAsync(addressFile, addresses.Select(a => a.ToString()));
        // The machine is shared: python runs right before and right after our measurements, and ours are compared
        // with the mean of the two; the second run also returns the sample of answers.
        var before = python ? await PythonReferenceAsync(path, addressFile, seconds, 0) : default;
        var rates = new List<(string Label, double Rate)>();
        using (var cachedReader = MmdbReader.Open(path, new MmdbReaderOptions { RecordCacheSize = 16384 }))
        {
            rates.Add(Measure("MmdbReader.TryLookup, full decode, no cache", addresses, seconds, a => plain.TryLookup(a, out _, out _)));
            rates.Add(Measure("MmdbReader.TryLookup, record cache 16k", addresses, seconds, a => cachedReader.TryLookup(a, out _, out _)));
        }

        using (var typed = new GeoDatabase(MmdbReader.Open(path), new GeoDatabaseOptions { CacheSize = 0 }))
        using (var typedCached = new GeoDatabase(MmdbReader.Open(path), new GeoDatabaseOptions { CacheSize = 16384 }))
        {
            if (typed.SupportsLocation)
            {
                rates.Add(Measure("GeoDatabase.TryGetLocation, typed, no cache", addresses, seconds, a => typed.TryGetLocation(a, out _)));
                rates.Add(Measure("GeoDatabase.TryGetLocation, typed + cache 16k", addresses, seconds, a => typedCached.TryGetLocation(a, out _)));
            }
            else if (typed.SupportsNetworkOwner)
            {
                rates.Add(Measure("GeoDatabase.TryGetNetworkOwner, typed, no cache", addresses, seconds, a => typed.TryGetNetworkOwner(a, out _)));
                rates.Add(Measure("GeoDatabase.TryGetNetworkOwner, typed + cache 16k", addresses, seconds, a => typedCached.TryGetNetworkOwner(a, out _)));
            }
        }

        rates.Add(Measure("tree walk only (TryLookupOffset)", addresses, seconds, a => plain.TryLookupOffset(a, out _, out _)));
        if (!python)
        {
            foreach (var (mode, rate) in rates)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {mode}: {rate:N0} lookups/s (no reference)"));
            }

            return 0;
        }

        var r = await PythonReferenceAsync(path, addressFile, seconds, sample);
        var reference = (before.Rate + r.Rate) / 2;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  reference  python3-maxminddb ({r.Mode}) reader.get, same addresses, before / after ours: {before.Rate:N0} / {r.Rate:N0} lookups/s"));
        foreach (var (mode, rate) in rates)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {mode}: {rate:N0} lookups/s = {rate / reference:F2}x python3-maxminddb"));
        }

        if (sample == 0)
        {
            return 0;
        }

        // The same answers: record and prefix length, rendered the way the python script renders its own.
        var mismatches = new List<string>();
        for (var i = 0; i < r.Sample.Length; i++)
        {
            var found = plain.TryLookup(addresses[i], out var record, out var prefix);
            var ours = string.Create(CultureInfo.InvariantCulture, $"{prefix}\t{(found ? Canonical(record!) : "null")}");
            if (!string.Equals(ours, r.Sample[i], StringComparison.Ordinal))
            {
                mismatches.Add($"{addresses[i]}: ours {Shorten(ours)} | python3-maxminddb {Shorten(r.Sample[i])}");
            }
        }

        Console.WriteLine($"  agreement  {r.Sample.Length - mismatches.Count:N0} of {r.Sample.Length:N0} sampled addresses give the same record and prefix length as python3-maxminddb; {mismatches.Count} mismatches");
        foreach (var line in mismatches.Take(10))
        {
            Console.WriteLine($"    {line}");
        }

        return mismatches.Count;
    }

    private static async Task<(string Mode, double Rate, string[] Sample)> PythonReferenceAsync(string path, string addressFile, double seconds, int sample)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "python", "maxminddb_reference.py");
        var run = await PythonScripts.RunProcessAsync(RepoPaths.SystemPython,
            [script, path, addressFile, seconds.ToString(CultureInfo.InvariantCulture), sample.ToString(CultureInfo.InvariantCulture)], null, TimeSpan.FromSeconds(120 + seconds));
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"python3-maxminddb reference exited {run.ExitCode}:\n{run.Stderr}");
        }

        var lines = run.Stdout.Split('\n');
        var rate = lines[1].Split(' ');
        return (lines[0]["mode ".Length..], double.Parse(rate[1], CultureInfo.InvariantCulture) / double.Parse(rate[2], CultureInfo.InvariantCulture), lines[2..(2 + sample)]);
    }

    /// <summary>Lookups per second of <paramref name="lookup"/> over the address list, one thread, after a warm-up.</summary>
    private static (string Label, double Rate) Measure(string label, IPAddress[] addresses, double seconds, Func<IPAddress, bool> lookup)
    {
        for (var i = 0; i < 50_000; i++)
        {
            lookup(addresses[i & (addresses.Length - 1)]);
        }

        var budget = TimeSpan.FromSeconds(seconds);
        var clock = Stopwatch.StartNew();
        long count = 0;
        while (clock.Elapsed < budget)
        {
            for (var i = 0; i < Chunk; i++)
            {
                lookup(addresses[(int)(count++ & (addresses.Length - 1))]);
            }
        }

        return (label, count / clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The addresses to look up: half inside networks of the database's source JSON (MaxMind's test data has one
    /// next to each database), the rest random IPv4 (or all random when there is no JSON). Fixed seed.
    /// </summary>
    private static IPAddress[] Addresses(string database, string? json)
    {
        var random = new Random(42);
        var inside = json is not null && File.Exists(json) ? SourceNetworks(json) : [];
        using var reader = MmdbReader.Open(database);
        var ipv6 = reader.Metadata.IpVersion == 6;
        var addresses = new IPAddress[AddressCount];
        for (var i = 0; i < addresses.Length; i++)
        {
            var network = inside.Count > 0 && i % 2 == 0 ? inside[random.Next(inside.Count)] : (IPNetwork?)null;
            if (network is { } n && (ipv6 || n.BaseAddress.AddressFamily == AddressFamily.InterNetwork))
            {
                addresses[i] = RandomInside(n, random);
            }
            else
            {
                addresses[i] = new IPAddress((uint)random.Next() ^ ((uint)random.Next() << 16));
            }
        }

        return addresses;
    }

    /// <summary>The networks of a MaxMind source JSON file (a list of one-entry objects keyed by CIDR).</summary>
    private static List<IPNetwork> SourceNetworks(string json)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        return [.. document.RootElement.EnumerateArray().SelectMany(e => e.EnumerateObject()).Select(p => IPNetwork.Parse(p.Name))];
    }

    private static IPAddress RandomInside(IPNetwork network, Random random)
    {
        var bytes = network.BaseAddress.GetAddressBytes();
        var hostBits = bytes.Length * 8 - network.PrefixLength;
        for (var bit = 0; bit < hostBits; bit++)
        {
            if (random.Next(2) == 1)
            {
                var index = bytes.Length * 8 - 1 - bit;
                bytes[index / 8] |= (byte)(0x80 >> (index % 8));
            }
        }

        return new IPAddress(bytes);
    }

    /// <summary>A record as the python script renders its own: sorted keys, doubles as %.17g, bytes as hex.</summary>
    private static string Canonical(MmdbValue value)
    {
        var text = new StringBuilder();
        Render(value, text);
        return text.ToString();
    }

    private static void Render(MmdbValue value, StringBuilder text)
    {
        switch (value.Kind)
        {
            case MmdbValueKind.Map:
                text.Append('{');
                var first = true;
                foreach (var entry in value.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
                {
                    text.Append(first ? string.Empty : ",");
                    first = false;
                    Quote(entry.Key, text);
                    text.Append(':');
                    Render(entry.Value, text);
                }

                text.Append('}');
                break;
            case MmdbValueKind.Array:
                text.Append('[');
                for (var i = 0; i < value.Items.Count; i++)
                {
                    text.Append(i == 0 ? string.Empty : ",");
                    Render(value.Items[i], text);
                }

                text.Append(']');
                break;
            case MmdbValueKind.String:
                Quote(value.AsString(), text);
                break;
            case MmdbValueKind.Bytes:
                text.Append('b').Append(Convert.ToHexStringLower(value.AsBytes().Span));
                break;
            case MmdbValueKind.Boolean:
                text.Append(value.AsBoolean() ? "true" : "false");
                break;
            case MmdbValueKind.Double or MmdbValueKind.Float:
                // A float is widened to double, as the python reader does; both print 17 significant digits (%.17g).
                var number = value.Kind == MmdbValueKind.Float ? value.AsFloat() : value.AsDouble();
                text.Append(double.IsNaN(number) ? "nan"
                    : double.IsPositiveInfinity(number) ? "inf"
                    : double.IsNegativeInfinity(number) ? "-inf"
                    : number.ToString("G17", CultureInfo.InvariantCulture).ToLowerInvariant());
                break;
            case MmdbValueKind.Int32:
                text.Append(value.AsInt64().ToString(CultureInfo.InvariantCulture));
                break;
            default:
                text.Append(value.AsUInt128().ToString(CultureInfo.InvariantCulture));
                break;
        }
    }

    private static void Quote(string s, StringBuilder text) =>
        text.Append('"').Append(s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal)).Append('"');

    private static string Shorten(string s) => s.Length <= 300 ? s : s[..300] + "...";

    /// <summary>A City-shaped database of realistic size: the test database's records, varied into distinct ones, over random IPv4 networks.</summary>
    private static byte[] BuildCityScaleDatabase(string testCity, int networks, int distinctRecords)
    {
        using var source = MmdbReader.Open(testCity);
        var pool = SourceNetworks(Path.ChangeExtension(testCity, ".json"))
            .Select(n => source.Lookup(n.BaseAddress))
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
            address &= uint.MaxValue << (32 - prefix);
            var ip = new IPAddress(new[] { (byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address });
            writer.Insert(string.Create(CultureInfo.InvariantCulture, $"{ip}/{prefix}"), records[random.Next(records.Length)]);
        }

        return writer.Build();
    }

    private static double Option(string[] args, string name, double fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1].Replace("_", string.Empty, StringComparison.Ordinal), CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>The first argument that is neither an option nor an option's value.</summary>
    private static string? Positional(string[] args, params string[] optionsWithValues)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (optionsWithValues.Contains(args[i]))
            {
                i++;
            }
            else if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                return args[i];
            }
        }

        return null;
    }
}
