using System.Diagnostics;
using System.Globalization;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace ExposureIndex.Bench;

/// <summary>
/// The engine spike behind docs/decisions/0002-embedded-store-engine.md: at N services, compares
/// (A) SQLite doing everything (secondary indexes, FTS5, GROUP BY facets),
/// (B) SQLite as the durable record store only (primary keys, no secondary indexes) and
/// (C) a plain append-only log with CRC and fsync per batch, for ingest;
/// and SQL GROUP BY against an in-memory dictionary-encoded column scan for count + facets.
/// </summary>
internal static class StoreEngineSpike
{
    public static void Run(int n, string dir)
    {
        Directory.CreateDirectory(dir);
        Console.WriteLine($"generating {n:N0} synthetic services...");
        var records = new SyntheticServices(42).Generate(n).ToList();
        var bytes = records.Select(r => r.ToByteArray()).ToList();
        Console.WriteLine($"avg record {bytes.Average(b => b.Length):F0} bytes, avg data {records.Average(r => r.Data.Length):F0} bytes");

        var a = SqliteEverything(records, bytes, Path.Combine(dir, "a.db"));
        var b = SqliteDurableOnly(records, bytes, Path.Combine(dir, "b.db"));
        var c = AppendLog(bytes, Path.Combine(dir, "c.log"));
        var raw = SqliteRawInsert(n, Path.Combine(dir, "raw.db"));
        Console.WriteLine();
        Console.WriteLine($"reference: SQLite raw insert (one INTEGER+BLOB(400) row, batches of 1000, WAL, synchronous=FULL): {raw:N0} rows/s");
        Console.WriteLine($"ingest A sqlite+indexes+fts5: {a:N0} rec/s ({a / raw:F2}x raw)");
        Console.WriteLine($"ingest B sqlite durable-only (current+history, PKs only): {b:N0} rec/s ({b / raw:F2}x raw)");
        Console.WriteLine($"ingest C append-only log + fsync per batch: {c:N0} rec/s ({c / raw:F2}x raw)");
        InMemoryColumns(records);
        foreach (var f in Directory.GetFiles(dir))
        {
            File.Delete(f);
        }
    }

    private static SqliteConnection Open(string path)
    {
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(path + suffix);
        }

        var connection = new SqliteConnection($"Data Source={path};Pooling=false");
        connection.Open();
        Exec(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;");
        return connection;
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static double SqliteRawInsert(int n, string path) => StoreBench.SqliteRawInsertRate(n, path);

    private static double SqliteEverything(List<ServiceRecord> records, List<byte[]> bytes, string path)
    {
        using var c = Open(path);
        Exec(c, """
            CREATE TABLE services(key TEXT PRIMARY KEY, ip BLOB, port INTEGER, product TEXT COLLATE NOCASE, version TEXT, country TEXT, org TEXT, ts INTEGER, doc BLOB);
            CREATE INDEX s_ip ON services(ip); CREATE INDEX s_port ON services(port); CREATE INDEX s_product ON services(product); CREATE INDEX s_country ON services(country);
            CREATE VIRTUAL TABLE services_fts USING fts5(data, content='', contentless_delete=1);
            """);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < records.Count; i += 1000)
        {
            using var tx = c.BeginTransaction();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "INSERT INTO services(key, ip, port, product, version, country, org, ts, doc) VALUES ($k,$ip,$p,$pr,$v,$c,$o,$t,$d) ON CONFLICT(key) DO UPDATE SET doc=excluded.doc RETURNING rowid";
            var ps = new[] { "$k", "$ip", "$p", "$pr", "$v", "$c", "$o", "$t", "$d" }.Select(name => cmd.Parameters.Add(new SqliteParameter { ParameterName = name })).ToArray();
            using var fts = c.CreateCommand();
            fts.CommandText = "INSERT INTO services_fts(rowid, data) VALUES ($r, $data)";
            var fr = fts.Parameters.Add("$r", SqliteType.Integer);
            var fd = fts.Parameters.Add("$data", SqliteType.Text);
            for (var j = i; j < Math.Min(records.Count, i + 1000); j++)
            {
                var r = records[j];
                ps[0].Value = ServiceKey.From(r).ToString();
                ps[1].Value = System.Net.IPAddress.Parse(r.Ip).MapToIPv6().GetAddressBytes();
                ps[2].Value = (int)r.Port;
                ps[3].Value = r.Product;
                ps[4].Value = r.Version;
                ps[5].Value = r.Location.CountryCode;
                ps[6].Value = r.Org;
                ps[7].Value = r.Timestamp.Seconds;
                ps[8].Value = bytes[j];
                var rowid = (long)cmd.ExecuteScalar()!;
                fr.Value = rowid;
                fd.Value = r.Data.ToStringUtf8();
                fts.ExecuteNonQuery();
            }

            tx.Commit();
        }

        var rate = records.Count / sw.Elapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine("A: SQLite with secondary indexes + FTS5, queries:");
        Time(c, "count port:80", "SELECT count(*) FROM services WHERE port=80");
        Time(c, "count port:80 + facets product,country,org (3 GROUP BYs)", "SELECT product, count(*) n FROM services WHERE port=80 GROUP BY product ORDER BY n DESC LIMIT 5", "SELECT country, count(*) n FROM services WHERE port=80 GROUP BY country ORDER BY n DESC LIMIT 5", "SELECT org, count(*) n FROM services WHERE port=80 GROUP BY org ORDER BY n DESC LIMIT 5");
        Time(c, "whole index count + 3 facets", "SELECT count(*) FROM services", "SELECT product, count(*) n FROM services GROUP BY product ORDER BY n DESC LIMIT 5", "SELECT country, count(*) n FROM services GROUP BY country ORDER BY n DESC LIMIT 5", "SELECT port, count(*) n FROM services GROUP BY port ORDER BY n DESC LIMIT 5");
        Time(c, "search page port:80 country:US (100 docs)", "SELECT doc FROM services WHERE port=80 AND country='US' ORDER BY rowid DESC LIMIT 100");
        Time(c, "free text 'nginx' count (FTS5)", "SELECT count(*) FROM services_fts WHERE services_fts MATCH 'nginx'");
        var ip = System.Net.IPAddress.Parse(records[records.Count / 2].Ip).MapToIPv6().GetAddressBytes();
        Time(c, "host view (by ip index)", $"SELECT doc FROM services WHERE ip=x'{Convert.ToHexString(ip)}'");
        return rate;
    }

    private static void Time(SqliteConnection c, string label, params string[] sqls)
    {
        var samples = new List<double>();
        for (var round = 0; round < 7; round++)
        {
            var sw = Stopwatch.StartNew();
            foreach (var sql in sqls)
            {
                using var cmd = c.CreateCommand();
                cmd.CommandText = sql;
                using var reader = cmd.ExecuteReader();
                while (reader.Read())
                {
                    _ = reader.GetValue(0);
                }
            }

            samples.Add(sw.Elapsed.TotalMilliseconds);
        }

        samples.Sort();
        Console.WriteLine($"   {label}: p50 {samples[samples.Count / 2]:F2} ms");
    }

    private static double SqliteDurableOnly(List<ServiceRecord> records, List<byte[]> bytes, string path)
    {
        using var c = Open(path);
        Exec(c, """
            CREATE TABLE observations(record_id BLOB PRIMARY KEY, key_hash INTEGER, ts INTEGER, body BLOB) WITHOUT ROWID;
            CREATE TABLE services(key TEXT PRIMARY KEY, doc BLOB);
            """);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < records.Count; i += 1000)
        {
            using var tx = c.BeginTransaction();
            using var obs = c.CreateCommand();
            obs.CommandText = "INSERT OR IGNORE INTO observations(record_id, key_hash, ts, body) VALUES ($id,$kh,$t,$b)";
            var pid = obs.Parameters.Add("$id", SqliteType.Blob);
            var pkh = obs.Parameters.Add("$kh", SqliteType.Integer);
            var pt = obs.Parameters.Add("$t", SqliteType.Integer);
            var pb = obs.Parameters.Add("$b", SqliteType.Blob);
            using var svc = c.CreateCommand();
            svc.CommandText = "INSERT INTO services(key, doc) VALUES ($k,$d) ON CONFLICT(key) DO UPDATE SET doc=excluded.doc";
            var pk = svc.Parameters.Add("$k", SqliteType.Text);
            var pd = svc.Parameters.Add("$d", SqliteType.Blob);
            for (var j = i; j < Math.Min(records.Count, i + 1000); j++)
            {
                var key = ServiceKey.From(records[j]).ToString();
                pid.Value = Convert.FromHexString(RecordIdentity.Compute(records[j]));
                pkh.Value = (long)Crc32C.Compute(System.Text.Encoding.UTF8.GetBytes(key));
                pt.Value = records[j].Timestamp.Seconds;
                pb.Value = bytes[j];
                obs.ExecuteNonQuery();
                pk.Value = key;
                pd.Value = bytes[j];
                svc.ExecuteNonQuery();
            }

            tx.Commit();
        }

        return records.Count / sw.Elapsed.TotalSeconds;
    }

    private static double AppendLog(List<byte[]> bytes, string path)
    {
        File.Delete(path);
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 20);
        var header = new byte[8];
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < bytes.Count; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header, bytes[i].Length);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), Crc32C.Compute(bytes[i]));
            stream.Write(header);
            stream.Write(bytes[i]);
            if (i % 1000 == 999)
            {
                stream.Flush(flushToDisk: true);
            }
        }

        stream.Flush(flushToDisk: true);
        return bytes.Count / sw.Elapsed.TotalSeconds;
    }

    private static void InMemoryColumns(List<ServiceRecord> records)
    {
        // Dictionary-encoded columns + bitset filter + counting facets: the shape of the chosen engine.
        var n = records.Count;
        var port = new ushort[n];
        var product = new int[n];
        var country = new int[n];
        var org = new int[n];
        var dicts = new[] { new Dictionary<string, int>(), new Dictionary<string, int>(), new Dictionary<string, int>() };
        int Id(int d, string v)
        {
            if (!dicts[d].TryGetValue(v, out var id))
            {
                id = dicts[d].Count;
                dicts[d][v] = id;
            }

            return id;
        }

        var build = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            port[i] = (ushort)records[i].Port;
            product[i] = Id(0, records[i].Product);
            country[i] = Id(1, records[i].Location.CountryCode);
            org[i] = Id(2, records[i].Org);
        }

        Console.WriteLine();
        Console.WriteLine($"in-memory columns built in {build.ElapsedMilliseconds} ms");
        var samples = new List<double>();
        var whole = new List<double>();
        for (var round = 0; round < 9; round++)
        {
            var sw = Stopwatch.StartNew();
            var bits = new ulong[(n + 63) / 64];
            for (var i = 0; i < n; i++)
            {
                if (port[i] == 80)
                {
                    bits[i >> 6] |= 1UL << i;
                }
            }

            var total = 0;
            var c0 = new int[dicts[0].Count];
            var c1 = new int[dicts[1].Count];
            var c2 = new int[dicts[2].Count];
            for (var w = 0; w < bits.Length; w++)
            {
                var word = bits[w];
                total += System.Numerics.BitOperations.PopCount(word);
                while (word != 0)
                {
                    var row = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
                    word &= word - 1;
                    c0[product[row]]++;
                    c1[country[row]]++;
                    c2[org[row]]++;
                }
            }

            samples.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            var d0 = new int[dicts[0].Count];
            var d1 = new int[dicts[1].Count];
            var d2 = new int[65536];
            for (var row = 0; row < n; row++)
            {
                d0[product[row]]++;
                d1[country[row]]++;
                d2[port[row]]++;
            }

            whole.Add(sw.Elapsed.TotalMilliseconds);
            GC.KeepAlive(total);
        }

        samples.Sort();
        whole.Sort();
        Console.WriteLine($"   count port:80 + facets product,country,org: p50 {samples[samples.Count / 2]:F2} ms");
        Console.WriteLine($"   whole index count + 3 facets: p50 {whole[whole.Count / 2]:F2} ms");
    }
}
