using System.Diagnostics;
using System.Globalization;
using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Indexer;
using ExposureIndex.Query;
using ExposureIndex.Rpc.Client;
using ExposureIndex.Rpc.Core;
using Google.Protobuf;
using ExposureIndex.Rpc.Server;
using ExposureIndex.Rpc.Services;
using ExposureIndex.Storage;
using ExposureIndex.Storage.Embedded;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Bench;

/// <summary>
/// bench/store: loads N realistic synthetic services end to end over gRPC (our client -> Indexer -> embedded
/// store, acknowledged only after fsync), then measures query latency (p50/p99) for the host view, count with
/// facets over the whole index, filtered search pages and free text, and the time to reopen (log replay).
/// The reference, measured in the same run: SQLite's raw insert rate on this machine.
/// </summary>
internal static class StoreBench
{
    private const int BatchSize = 1000;
    private const int WarmupRecords = 200_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var n = args.Length > 0 ? int.Parse(args[0].Replace("_", string.Empty, StringComparison.Ordinal), CultureInfo.InvariantCulture) : 1_000_000;
        var dir = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "exposure-bench-store");
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 50;
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        Directory.CreateDirectory(dir);
        Console.WriteLine($"bench/store: {n:N0} synthetic services, {Environment.ProcessorCount} cores, data in {dir}");

        var sqlite = SqliteRawInsertRate(Math.Min(n, 500_000), Path.Combine(dir, "reference.db"));
        Console.WriteLine($"reference  SQLite raw insert (INTEGER + 400-byte BLOB, WAL, synchronous=FULL, 1,000/commit): {sqlite:N0} rows/s");

        // Up to 2M services the batches are generated and serialized before the clock starts, so producing them is not
        // measured (a crawler does that in its own process). They are held as protobuf bytes, not message objects: a
        // million live records in this process would make the Indexer's garbage collector trace them on every pass,
        // which no real deployment does. Beyond 2M they are generated while publishing (a conservative figure).
        var ips = new List<string>();
        var pregenerate = n <= 2_000_000;
        var generate = Stopwatch.StartNew();
        IEnumerable<byte[]> batches = Batches(n, ips).Select(b => b.ToByteArray());
        if (pregenerate)
        {
            batches = batches.ToList();
            Console.WriteLine($"generated in {generate.Elapsed.TotalSeconds:F1}s ({((List<byte[]>)batches).Count:N0} batches of {BatchSize:N0}, serialized)");
        }
        else
        {
            Console.WriteLine("generating while publishing (too many services to hold in memory first)");
        }

        // Warm-up: a short run into a scratch store first, so that the measured run shows a running Indexer's rate
        // rather than the JIT compiling the ingest path in its first seconds (a long-running process pays that once).
        var warmupDir = Path.Combine(dir, "warmup");
        await using (var warmup = await StartIndexerAsync(warmupDir))
        {
            var warmupBatches = new SyntheticServices(99).Generate(WarmupRecords).Chunk(BatchSize)
                .Select((chunk, i) => new PublishBatch { Sequence = (ulong)i + 1, Producer = "warmup", Records = { chunk } }.ToByteArray());
            await PublishAllAsync(warmup.Url, warmupBatches, WarmupRecords, quiet: true);
        }

        Directory.Delete(warmupDir, recursive: true);

        // The runtime recompiles hot methods in the background (tiered compilation); let that finish (bounded).
        var settle = Stopwatch.StartNew();
        for (var (quiet, seen) = (0, System.Runtime.JitInfo.GetCompiledMethodCount()); quiet < 4 && settle.Elapsed < TimeSpan.FromSeconds(15);)
        {
            await Task.Delay(250);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            quiet = now == seen ? quiet + 1 : 0;
            seen = now;
        }

        Console.WriteLine($"warm-up    {WarmupRecords:N0} other records into a scratch store, then {settle.Elapsed.TotalSeconds:F1}s for the JIT to settle; not measured");

        var storeDir = Path.Combine(dir, "store");
        double ingestRate;
        await using (var server = await StartIndexerAsync(storeDir))
        {
            ingestRate = await PublishAllAsync(server.Url, batches, n);
            Console.WriteLine($"ingest     end to end over gRPC (client -> Indexer -> fsync'd, acked){(pregenerate ? string.Empty : " incl. generation")}: {ingestRate:N0} records/s = {ingestRate / sqlite:F2}x SQLite raw insert");
            batches = [];
            GC.Collect();
            await QueriesAsync(server.Store, ips, rounds);
            var stats = await server.Store.GetStatsAsync();
            Console.WriteLine($"store      {stats.Services:N0} services, {stats.Hosts:N0} hosts, log {stats.DiskBytes / 1048576.0:F0} MiB, managed heap {GC.GetTotalMemory(false) / 1048576.0:F0} MiB, working set {Environment.WorkingSet / 1048576.0:F0} MiB");
        }

        var reopen = Stopwatch.StartNew();
        await using (var reopened = EmbeddedStore.Open(storeDir))
        {
            var stats = await reopened.GetStatsAsync();
            Console.WriteLine($"reopen     replayed the log and rebuilt the index in {reopen.Elapsed.TotalSeconds:F1}s ({stats.Services / reopen.Elapsed.TotalSeconds:N0} services/s)");
        }

        Directory.Delete(dir, recursive: true);
        return 0;
    }

    private static IEnumerable<PublishBatch> Batches(int n, List<string> ips)
    {
        var current = new PublishBatch { Sequence = 1, Producer = "bench" };
        foreach (var record in new SyntheticServices(7).Generate(n))
        {
            current.Records.Add(record);
            if (ips.Count < 10_000 && (ips.Count == 0 || ips[^1] != record.Ip))
            {
                ips.Add(record.Ip);
            }

            if (current.Records.Count == BatchSize)
            {
                yield return current;
                current = new PublishBatch { Sequence = current.Sequence + 1, Producer = "bench" };
            }
        }

        if (current.Records.Count > 0)
        {
            yield return current;
        }
    }

    /// <summary>exposure.v1.Ingest/Publish with requests that are already serialized PublishBatch messages.</summary>
    private static readonly Method<byte[], PublishAck> PublishSerialized = new(
        MethodType.DuplexStreaming,
        IngestRpc.Publish.ServiceName,
        IngestRpc.Publish.Name,
        new Marshaller<byte[]>(static bytes => bytes, static bytes => bytes),
        Marshallers.ForProtobuf<PublishAck>());

    private static async Task<double> PublishAllAsync(Uri url, IEnumerable<byte[]> batches, long expected, bool quiet = false)
    {
        using var channel = RpcChannel.ForAddress(url);
        using var call = channel.DuplexStreamingCall(PublishSerialized);
        var clock = Stopwatch.StartNew();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var gcBefore = GC.GetTotalPauseDuration();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        using var sampler = quiet ? null : AllocationSampler.StartIfRequested();
        var collectionsBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var jitBefore = (System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime());
        var window = new SemaphoreSlim(16);
        var writer = Task.Run(async () =>
        {
            foreach (var batch in batches)
            {
                await window.WaitAsync();
                await call.RequestStream.WriteAsync(batch);
            }

            await call.RequestStream.CompleteAsync();
        });

        long acked = 0;
        while (await call.ResponseStream.MoveNext())
        {
            acked += call.ResponseStream.Current.Accepted;
            if (call.ResponseStream.Current.Rejected > 0)
            {
                throw new InvalidOperationException("bench records were rejected: " + call.ResponseStream.Current.Rejections[0].Reason);
            }

            window.Release();
        }

        await writer;
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        if (!quiet)
        {
            Console.WriteLine($"           {cpu / seconds / Environment.ProcessorCount:P0} of {Environment.ProcessorCount} cores busy, {cpu * 1e6 / expected:F1} us CPU/record (client and Indexer), GC pauses {(GC.GetTotalPauseDuration() - gcBefore).TotalSeconds / seconds:P0} of wall time");
            Console.WriteLine($"           {(GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / (double)expected:N0} B allocated/record; GCs gen0/1/2: {GC.CollectionCount(0) - collectionsBefore.Item1}/{GC.CollectionCount(1) - collectionsBefore.Item2}/{GC.CollectionCount(2) - collectionsBefore.Item3}");
            Console.WriteLine($"           JIT meanwhile: {System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore.Item1:N0} methods, {(System.Runtime.JitInfo.GetCompilationTime() - jitBefore.Item2).TotalMilliseconds:N0} ms");
            sampler?.Print(expected);
        }

        if (acked != expected)
        {
            throw new InvalidOperationException($"acknowledged {acked} of {expected}");
        }

        return acked / seconds;
    }

    private static async Task QueriesAsync(IExposureStore store, List<string> ips, int rounds)
    {
        var random = new Random(99);
        await Measure("host view (random known IP)", rounds * 4, async () => await store.GetHostAsync(IPAddress.Parse(ips[random.Next(ips.Count)]), history: false));
        var whole = SearchRequest.CountOnly(MatchAllNode.Instance, FacetParser.Parse("product,country,port"));
        await Measure("count + 3 facets (product,country,port) over the whole index", rounds, async () => await store.SearchAsync(whole));
        string[] filtered = ["port:443 country:US", "product:nginx -country:CN", "org:amazon port:22", "http.title:dashboard", "country:DE,FR city:Paris,Berlin port:80"];
        var i = 0;
        await Measure("filtered search page (100 banners)", rounds, async () => await store.SearchAsync(new SearchRequest(QueryParser.Parse(filtered[i++ % filtered.Length]).Root, [], 0, 100)));
        var facets = FacetParser.Parse("product:10,country,org");
        await Measure("filtered count + 3 facets (product:nginx)", rounds, async () => await store.SearchAsync(SearchRequest.CountOnly(QueryParser.Parse("product:nginx").Root, facets)));
        string[] words = ["openssh", "\"Server: nginx\"", "php", "dropbear", "\"X-Powered-By: PHP\""];
        var w = 0;
        await Measure("free text count (word / phrase)", rounds, async () => await store.SearchAsync(SearchRequest.CountOnly(QueryParser.Parse(words[w++ % words.Length]).Root)));
    }

    private static async Task Measure(string name, int rounds, Func<Task> query)
    {
        await query();
        var samples = new double[rounds];
        for (var r = 0; r < rounds; r++)
        {
            var sw = Stopwatch.StartNew();
            await query();
            samples[r] = sw.Elapsed.TotalMilliseconds;
        }

        Array.Sort(samples);
        Console.WriteLine($"query      {name}: p50 {samples[rounds / 2]:F2} ms, p99 {samples[Math.Min(rounds - 1, (int)(rounds * 0.99))]:F2} ms");
    }

    internal static double SqliteRawInsertRate(int n, string path)
    {
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(path + suffix);
        }

        using var connection = new SqliteConnection($"Data Source={path};Pooling=false");
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB);";
            pragma.ExecuteNonQuery();
        }

        var payload = new byte[400];
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i += 1000)
        {
            using var tx = connection.BeginTransaction();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = "INSERT INTO t(id, body) VALUES ($i, $b)";
            var pi = cmd.Parameters.Add("$i", SqliteType.Integer);
            var pb = cmd.Parameters.Add("$b", SqliteType.Blob);
            for (var j = i; j < Math.Min(n, i + 1000); j++)
            {
                pi.Value = j;
                pb.Value = payload;
                cmd.ExecuteNonQuery();
            }

            tx.Commit();
        }

        return n / sw.Elapsed.TotalSeconds;
    }

    private static async Task<IndexerHandle> StartIndexerAsync(string directory)
    {
        var store = EmbeddedStore.Open(directory);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenRpc(new IPEndPoint(IPAddress.Loopback, 0)));
        builder.Services.AddSingleton<IExposureStore>(store);
        builder.Services.AddIndexer();
        var app = builder.Build();
        app.MapIndexer();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.Single();
        return new IndexerHandle(app, store, new Uri(address));
    }

    private sealed class IndexerHandle(WebApplication app, EmbeddedStore store, Uri url) : IAsyncDisposable
    {
        public EmbeddedStore Store { get; } = store;

        public Uri Url { get; } = url;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
            await Store.DisposeAsync();
        }
    }
}
