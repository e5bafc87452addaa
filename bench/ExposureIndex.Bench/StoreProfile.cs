using System.Diagnostics;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Indexer.Ingest;
using ExposureIndex.Storage.Embedded;
using ExposureIndex.Storage.Embedded.Index;
using Google.Protobuf;

namespace ExposureIndex.Bench;

/// <summary>Where ingest time goes, stage by stage, single-threaded (a diagnostic, not a headline figure).</summary>
internal static class StoreProfile
{
    public static async Task RunAsync(int n)
    {
        var records = new SyntheticServices(7).Generate(n).ToList();
        var bytes = records.Select(r => r.ToByteArray()).ToList();
        Time("parse protobuf", n, () => { foreach (var b in bytes) { ServiceRecord.Parser.ParseFrom(b); } });
        var validator = new RecordValidator();
        Time("validate", n, () => { foreach (var r in records) { validator.Validate(r, 0); } });
        Time("record identity", n, () => { foreach (var r in records) { RecordIdentity.Compute(r); } });
        Time("serialize", n, () => { foreach (var r in records) { r.ToByteArray(); } });
        Time("banner decode", n, () => { foreach (var r in records) { ExposureIndex.Contracts.BannerText.Decode(r.Data.Span); } });
        var hashes = new List<ulong>();
        var texts = records.Select(r => ExposureIndex.Contracts.BannerText.Decode(r.Data.Span)).ToList();
        Time("word hashes", n, () => { foreach (var t in texts) { hashes.Clear(); Tokenizer.WordHashes(t, hashes); } });
        var heap0 = Settled();
        var postings = new PostingIndex();
        Time("postings add", n, () => { var row = 0; foreach (var t in texts) { hashes.Clear(); Tokenizer.WordHashes(t, hashes); postings.Add(row++, hashes); } });
        foreach (var field in ExposureIndex.Storage.Fields.DocumentFields.All)
        {
            var sw = Stopwatch.StartNew();
            foreach (var r in records)
            {
                _ = field.Text?.Invoke(r);
                _ = field.Integer?.Invoke(r);
                field.Many?.Invoke(r, new List<string>());
                _ = field.Boolean?.Invoke(r);
            }

            if (sw.Elapsed.TotalMilliseconds * 1000 / n > 0.15)
            {
                Console.WriteLine($"  extractor {field.Name}: {sw.Elapsed.TotalMilliseconds * 1000 / n:F2} us/record");
            }
        }

        Console.WriteLine($"  postings heap: {(Settled() - heap0) / (double)n:F0} B/service");
        Time("calculate size", n, () => { foreach (var r in records) { r.CalculateSize(); } });
        var heap1 = Settled();
        var index = new ServiceIndex();
        var ips = records.Select(r => IpNumbers.Parse(r.Ip)).ToArray(); // the writer stage knows them (ServiceId)
        Time("index add", n, () => { var i = 0; foreach (var r in records) { index.Add(r, ips[i], i, 0, 0, 1); i++; } });
        Console.WriteLine($"  index heap: {(Settled() - heap1) / (double)n:F0} B/service");
        GC.KeepAlive(postings);
        var dir = Path.Combine(Path.GetTempPath(), "exposure-profile");
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, true);
        }

        await using (var store = EmbeddedStore.Open(dir))
        {
            var sw = Stopwatch.StartNew();
            var tasks = new List<Task>();
            for (var i = 0; i < n; i += 1000)
            {
                tasks.Add(store.IngestAsync(records.GetRange(i, Math.Min(1000, n - i))));
            }

            await Task.WhenAll(tasks);
            Console.WriteLine($"store.IngestAsync (all batches queued at once): {n / sw.Elapsed.TotalSeconds:N0} rec/s");
            tasks.Clear();
            index = null!;
            postings = null!;
            var storeHeap = Settled();
            records.Clear();
            records.TrimExcess();
            bytes.Clear();
            bytes.TrimExcess();
            texts.Clear();
            texts.TrimExcess();
            Console.WriteLine($"  store heap: {Settled() / (double)n:F0} B/service (whole process, inputs dropped; {storeHeap / (double)n:F0} with them)");
        }

        Directory.Delete(dir, true);
    }

    private static long Settled()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(true);
    }

    // CPU time of this process rather than wall time: other load on the machine barely moves it.
    private static void Time(string name, int n, Action action)
    {
        var before = Process.GetCurrentProcess().TotalProcessorTime;
        action();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - before;
        Console.WriteLine($"{name}: {cpu.TotalMilliseconds * 1000 / n:F2} us CPU/record");
    }
}
