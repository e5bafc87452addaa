using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using ExposureIndex.Crawler.Discovery;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Bench;

/// <summary>
/// bench/sweep: how fast the crawler sweeps closed loopback ports (127.250.0.0/16 by default, never anything
/// else), for the connect scan and, as root, the SYN scan, each printed as a ratio to the machine's raw
/// connect() rate measured in the same run (<see cref="RawConnectReference"/>, before and after), and to
/// nmap -sT and masscan when they are installed. Every run is bounded in time and in count.
/// </summary>
internal static partial class SweepBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 5.0);
        var range = OptionText(args, "--range", "127.250.0.0/16");
        var ports = OptionText(args, "--ports", "1-1000");
        var concurrency = (int)Option(args, "--concurrency", 512);
        var cap = (int)Option(args, "--cap", 16);
        var tools = !args.Contains("--no-tools");
        var syn = !args.Contains("--no-syn");
        var duration = TimeSpan.FromSeconds(seconds);

        var plan = SweepPlan.Create(new SweepRequest { Targets = [range], Ports = ports, Seed = 1, AllowLoopback = true });
        if (plan.Space.Targets.Ranges.Any(r => r.Family != System.Net.Sockets.AddressFamily.InterNetwork || r.First >> 24 != 127 || r.Last >> 24 != 127))
        {
            Console.Error.WriteLine($"bench/sweep only sweeps 127.0.0.0/8, not {range}");
            return 2;
        }

        var first = (uint)plan.Space.Targets.Ranges[0].First;
        var addresses = (int)Math.Min(plan.Space.Addresses, int.MaxValue);
        var portSet = plan.Space.Ports.Tcp;
        var cores = Environment.ProcessorCount;
        Console.WriteLine($"bench/sweep: {range} x ports {ports} ({plan.Space.Count:N0} closed-port targets on loopback), {seconds:0.#} s per measurement, {cores} cores");
        Console.WriteLine();

        var maxAttempts = (long)Math.Min(plan.Space.Count, 50_000_000UL);
        var synAllowed = false;
        string? synSkipped = null;
        if (syn)
        {
            synAllowed = SynScanner.TryCreate(new SynScanOptions(), TimeProvider.System, out var probe, out var error);
            probe?.Dispose();
            synSkipped = synAllowed ? null : error;
        }

        // The machine is shared: every round measures the reference right before and after the sweeps and
        // compares each sweep with the mean of those two; the medians over the rounds are the figures.
        var rounds = (int)Option(args, "--rounds", 3);
        var connectRatios = new List<double>();
        var connectLowRatios = new List<double>();
        var synRatios = new List<double>();
        var synPerCore = new List<double>();
        var nmapRatios = new List<double>();
        var masscanRatios = new List<double>();
        var connectRates = new List<double>();
        var synRates = new List<double>();
        Console.WriteLine($"load average at start: {LoadAverage()}");
        Console.WriteLine("round  reference(before/after)   connect(ours)        connect(64,no cap)   syn(ours)            nmap -sT          masscan");
        for (var round = 1; round <= rounds; round++)
        {
            var before = RawConnectReference.Measure(first, addresses, portSet[0], portSet.Count, cores, duration, maxAttempts / cores).PerSecond;
            var connect = await ConnectSweepAsync(plan, concurrency, cap, duration);
            var connectLow = await ConnectSweepAsync(plan, 64, 0, duration);
            (double Overall, double? SendPath, long Replies)? synResult = synAllowed ? await SynSweepAsync(plan, duration) : null;
            var nmap = tools ? await NmapAsync(first, duration) : null;
            var masscan = tools ? await MasscanAsync(range, duration) : null;
            var after = RawConnectReference.Measure(first, addresses, portSet[0], portSet.Count, cores, duration, maxAttempts / cores).PerSecond;
            var reference = (before + after) / 2;

            connectRates.Add(connect);
            connectRatios.Add(connect / reference);
            connectLowRatios.Add(connectLow / reference);
            if (synResult is { } sr)
            {
                synRates.Add(sr.Overall);
                synRatios.Add(sr.Overall / reference);
                if (sr.SendPath is { } perCore)
                {
                    synPerCore.Add(perCore);
                }
            }

            var nmapRate = nmap is { } n ? n.Probes / n.Seconds : (double?)null;
            if (nmapRate is { } nr)
            {
                nmapRatios.Add(nr / reference);
            }

            if (masscan is { } m)
            {
                masscanRatios.Add(m / reference);
            }

            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(
                string.Create(inv, $"{round,5}  {before,9:N0} / {after,-9:N0}    {connect,8:N0}/s {connect / reference,5:P0}   {connectLow,8:N0}/s {connectLow / reference,5:P0}   ")
                + (synResult is { } s1 ? string.Create(inv, $"{s1.Overall,8:N0}/s {s1.Overall / reference,4:0.0}x   ") : "        -            ")
                + (nmapRate is { } n1 ? string.Create(inv, $"{n1,7:N0}/s {n1 / reference,4:P0}   ") : "      -           ")
                + (masscan is { } m1 ? string.Create(inv, $"{m1,8:N0}/s {m1 / reference,4:0.0}x") : "      -"));
        }

        Console.WriteLine($"load average at end:   {LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine($"connect    ours (epoll engine, concurrency {concurrency}, per-/24 cap {cap}): median {Median(connectRatios):P0} of raw connect()   (target >= 50%)");
        Console.WriteLine($"connect    ours (concurrency 64, no cap):                        median {Median(connectLowRatios):P0} of raw connect()");
        if (synRatios.Count > 0)
        {
            Console.WriteLine($"syn        ours, unlimited:  median {Median(synRates):N0} probes/s = {Median(synRatios):0.0}x raw connect(); send path median {Median(synPerCore):N0} probes/s per core (CPU time of the sending thread; target >= 100k)");
        }
        else if (syn)
        {
            Console.WriteLine($"syn        skipped: {synSkipped}");
        }

        if (nmapRatios.Count > 0)
        {
            Console.WriteLine($"nmap -sT   median {Median(nmapRatios):P0} of raw connect(); ours(connect)/nmap = {Median(connectRatios) / Median(nmapRatios):0.00}x");
        }

        if (masscanRatios.Count > 0)
        {
            Console.WriteLine($"masscan    median {Median(masscanRatios):0.0}x raw connect()" + (synRatios.Count > 0 ? $"; ours(syn)/masscan = {Median(synRatios) / Median(masscanRatios):0.00}x" : string.Empty));
        }

        // The --rate limit, honoured over a window of a few seconds: target within 5%.
        var connectRate = Math.Max(1000, Math.Round(Median(connectRates) * 0.25 / 1000) * 1000);
        var connectLimited = await ConnectSweepAsync(plan, concurrency, cap, duration, connectRate);
        Console.WriteLine($"rate       connect --rate {connectRate:N0}: {connectLimited:N0}/s, {SignedPercent((connectLimited - connectRate) / connectRate)} off the limit");
        if (synRates.Count > 0)
        {
            var synRate = Math.Max(1000, Math.Round(Median(synRates) * 0.4 / 1000) * 1000);
            var synLimited = (await SynSweepAsync(plan, duration, synRate)).Overall;
            Console.WriteLine($"rate       syn --rate {synRate:N0}: {synLimited:N0}/s, {SignedPercent((synLimited - synRate) / synRate)} off the limit");
        }

        return 0;
    }

    private static async Task<double> ConnectSweepAsync(SweepPlan plan, int concurrency, int cap, TimeSpan duration, double? rate = null)
    {
        var sweep = new DiscoverySweep(plan, new DiscoverySweepOptions
        {
            Rate = rate,
            MaxPerNetwork = cap,
            Connect = new ConnectScanOptions { Concurrency = concurrency, ConnectTimeout = TimeSpan.FromSeconds(2) },
        }, TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var run = sweep.RunAsync(_ => { }, stop.Token);
        // Measure over [1 s, duration]: thread start-up and the first fill of the slots are not the sweep rate.
        await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var before = sweep.Snapshot().Attempted;
        await Task.WhenAny(run, Task.Delay(duration - TimeSpan.FromSeconds(1))).ConfigureAwait(false);
        var attempted = sweep.Snapshot().Attempted - before;
        var elapsed = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync().ConfigureAwait(false);
        await run.ConfigureAwait(false);
        return attempted / elapsed;
    }

    private static async Task<(double Overall, double? SendPath, long Replies)> SynSweepAsync(SweepPlan plan, TimeSpan duration, double? rate = null)
    {
        var closed = 0L;
        var sweep = new DiscoverySweep(plan, new DiscoverySweepOptions
        {
            Rate = rate,
            Syn = true,
            SynOptions = new SynScanOptions { ReplyWait = TimeSpan.FromSeconds(1) },
        }, TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var run = sweep.RunAsync(r =>
        {
            if (r.State == PortState.Closed)
            {
                Interlocked.Increment(ref closed);
            }
        }, stop.Token);
        // Measure over [1 s, duration]: start-up (raw socket, BPF filter, threads) is not the sweep rate.
        await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var before = sweep.Snapshot().Attempted;
        await Task.WhenAny(run, Task.Delay(duration - TimeSpan.FromSeconds(1))).ConfigureAwait(false);
        var attempted = sweep.Snapshot().Attempted - before;
        var elapsed = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync().ConfigureAwait(false);
        await run.ConfigureAwait(false);
        return (attempted / elapsed, sweep.SynSendRate, Interlocked.Read(ref closed));
    }

    private static async Task<(long Probes, double Seconds)?> NmapAsync(uint first, TimeSpan duration)
    {
        if (Which("nmap") is not { } nmap)
        {
            return null;
        }

        // 120 hosts x 1000 ports; nmap -sT is a connect() scan, so closed ports answer at once.
        var a = new IPAddress(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(first + 0x400)).GetAddressBytes();
        var hosts = $"{a[0]}.{a[1]}.{a[2]}.1-120";
        var clock = Stopwatch.StartNew();
        var exit = await RunAsync(nmap, ["-sT", "-n", "-Pn", "-p", "1-1000", "--max-retries", "0", "-T5", "--max-rate", "500000", "-oN", "/dev/null", hosts],
            duration + TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        return exit.Code == 0 ? (120_000, clock.Elapsed.TotalSeconds) : null;
    }

    private static async Task<double?> MasscanAsync(string range, TimeSpan duration)
    {
        if (Which("masscan") is not { } masscan)
        {
            return null;
        }

        // masscan injects on lo through libpcap with made-up MACs; it reports its rate about every second.
        // It does not always exit after sending on lo, so it is stopped after the time budget.
        var result = await RunAsync(masscan, [range, "-p1-40", "--rate", "10000000", "--adapter", "lo", "--adapter-ip", "127.0.0.1",
            "--source-mac", "00-00-00-00-00-01", "--router-mac", "00-00-00-00-00-02", "--wait", "0"], duration + TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        var rates = KppsPattern().Matches(result.Stderr.Replace('\r', '\n'))
            .Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * 1000)
            .Where(r => r > 0)
            .ToList();
        return rates.Count == 0 ? null : rates.Order().ElementAt(rates.Count / 2);
    }

    private static async Task<(int Code, string Stderr)> RunAsync(string file, IReadOnlyList<string> args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stop exactly the process we started.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }

        await stdout.ConfigureAwait(false);
        return (process.HasExited ? process.ExitCode : -1, await stderr.ConfigureAwait(false));
    }

    private static double Median(List<double> values) => values.Count == 0 ? double.NaN : values.Order().ElementAt(values.Count / 2);

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string? Which(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/sbin"])
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);

    private static double Option(string[] args, string name, double fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string OptionText(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    [GeneratedRegex(@"rate:\s*([0-9.]+)-kpps")]
    private static partial Regex KppsPattern();

    /// <summary>A deviation as +1.2% / -1.2%, and 0.0% when it rounds to zero (a custom format would print "-+0.0%").</summary>
    private static string SignedPercent(double fraction)
        => Math.Abs(fraction) < 0.0005
            ? "0.0%"
            : fraction.ToString("+0.0%;-0.0%", System.Globalization.CultureInfo.InvariantCulture);
}
