using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.Bench;

/// <summary>
/// bench/fingerprint: starts every daemon fixture in tests/TestCommon/Daemons (each on its own 127.x.y.z address),
/// finds every TCP port they listen on, then runs `nmap -sV` and our crawler over the same addresses and ports in
/// one run, and compares: services with a product and a version on each side, where the two agree, and the wall
/// time of each. Only loopback addresses are ever scanned (both tools get explicit 127.x.y.z targets).
/// </summary>
internal static class FingerprintBench
{
    private static readonly TimeSpan DaemonStartBound = TimeSpan.FromSeconds(180);

    public static async Task<int> RunAsync(string[] args)
    {
        var root = FindRoot();
        var intensity = Arg(args, "--intensity") ?? "7";
        var keep = args.Contains("--keep");
        // --nmap-probes: our crawler also loads the user's own nmap-service-probes (never copied) on top of ours.
        var nmapProbes = args.Contains("--nmap-probes") ? "/usr/share/nmap/nmap-service-probes" : null;
        var work = Directory.CreateTempSubdirectory("exposure-fingerprint-bench-").FullName;
        var nmap = Which("nmap");
        if (nmap is null)
        {
            Console.Error.WriteLine("bench/fingerprint needs nmap (apt-get install nmap)");
            return 2;
        }

        Console.WriteLine("building the exposure CLI (not timed) ...");
        var build = await RunProcessAsync(Path.Combine(root, "exposure"), ["--help"], TimeSpan.FromMinutes(10));
        if (build.ExitCode != 0)
        {
            Console.Error.WriteLine("could not build ./exposure:\n" + build.Output);
            return 1;
        }

        var cli = Path.Combine(root, ".build", "cli", "exposure.dll");
        if (!File.Exists(cli))
        {
            Console.Error.WriteLine($"the exposure CLI was not built at {cli}");
            return 1;
        }

        var daemons = await StartDaemonsAsync();
        try
        {
            if (daemons.Count == 0)
            {
                Console.Error.WriteLine("no daemon fixture could be started");
                return 1;
            }

            var addresses = daemons.Select(d => d.Address).Distinct().ToList();
            var listening = await ListeningTcpAsync(addresses);
            var ports = listening.Select(l => l.Port).Distinct().Order().ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{daemons.Count} daemons on {addresses.Count} loopback addresses, {listening.Count} TCP services; scanning {addresses.Count} addresses x {ports.Count} ports with each tool"));
            var portList = string.Join(',', ports);
            var targets = addresses.Select(a => a.ToString()).ToList();
            if (targets.Any(t => !IPAddress.Parse(t).ToString().StartsWith("127.", StringComparison.Ordinal)))
            {
                throw new InvalidOperationException("refusing to scan anything but 127.0.0.0/8");
            }

            var nmapXml = Path.Combine(work, "nmap.xml");
            Console.WriteLine($"nmap -sV -Pn -n --version-intensity {intensity} -p <{ports.Count} ports> <{targets.Count} addresses> ...");
            var nmapClock = Stopwatch.StartNew();
            var nmapRun = await RunProcessAsync(nmap, ["-sV", "-Pn", "-n", "--version-intensity", intensity, "-p", portList, "-oX", nmapXml, .. targets], TimeSpan.FromMinutes(30));
            var nmapTime = nmapClock.Elapsed;
            if (nmapRun.ExitCode != 0)
            {
                Console.Error.WriteLine("nmap failed:\n" + nmapRun.Output);
                return 1;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  nmap took {nmapTime.TotalSeconds:F1} s"));

            var ours = Path.Combine(work, "exposure.ndjson");
            Console.WriteLine($"./exposure crawl --targets <{targets.Count} addresses> --ports <{ports.Count} ports> --intensity {intensity} --output FILE --allow-loopback ...");
            var ourClock = Stopwatch.StartNew();
            // What ./exposure execs, called directly so that nothing is rebuilt inside the timed run.
            var ourRun = await RunProcessAsync(Which("dotnet") ?? "dotnet",
                [cli, "crawl", "--targets", string.Join(',', targets), "--ports", portList, "--intensity", intensity, "--output", ours, "--allow-loopback", "--quiet"], TimeSpan.FromMinutes(30));
            var ourTime = ourClock.Elapsed;
            if (ourRun.ExitCode != 0)
            {
                Console.Error.WriteLine("exposure crawl failed:\n" + ourRun.Output);
                return 1;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  exposure took {ourTime.TotalSeconds:F1} s"));

            var nmapServices = ParseNmap(nmapXml);
            var ourServices = ParseOurs(ours);
            Report(listening, daemons, nmapServices, ourServices, nmapTime, ourTime);
            Console.WriteLine($"outputs: {nmapXml} and {ours}");
            return 0;
        }
        finally
        {
            foreach (var daemon in daemons)
            {
                try
                {
                    await daemon.DisposeAsync();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Console.Error.WriteLine($"stopping {daemon} failed: {e.Message}");
                }
            }

            if (!keep)
            {
                TryDelete(work);
            }
        }
    }

    private sealed record Service(string Address, int Port, string? Name, string? Product, string? Version)
    {
        public bool HasProduct => !string.IsNullOrWhiteSpace(Product);

        public bool HasVersion => !string.IsNullOrWhiteSpace(Version);
    }

    private static void Report(IReadOnlyList<IPEndPoint> listening, IReadOnlyList<Daemon> daemons, Dictionary<(string, int), Service> nmap, Dictionary<(string, int), Service> ours, TimeSpan nmapTime, TimeSpan ourTime)
    {
        var keys = listening.Select(e => (e.Address.ToString(), e.Port)).Distinct().OrderBy(k => k.Item1, StringComparer.Ordinal).ThenBy(k => k.Port).ToList();
        var owner = daemons.ToDictionary(d => d.Address.ToString(), d => d.GetType().Name.Replace("Daemon", string.Empty, StringComparison.Ordinal));
        Console.WriteLine();
        Console.WriteLine($"{"service",-26} {"nmap -sV",-52} {"exposure",-52}");
        int nProduct = 0, nVersion = 0, oProduct = 0, oVersion = 0, bothProduct = 0, agreeProduct = 0, bothVersion = 0, agreeVersion = 0, ourWhereNmap = 0, ourVersionWhereNmap = 0;
        foreach (var key in keys)
        {
            var n = nmap.GetValueOrDefault(key);
            var o = ours.GetValueOrDefault(key);
            nProduct += n?.HasProduct == true ? 1 : 0;
            nVersion += n?.HasVersion == true ? 1 : 0;
            oProduct += o?.HasProduct == true ? 1 : 0;
            oVersion += o?.HasVersion == true ? 1 : 0;
            if (n?.HasProduct == true && o?.HasProduct == true)
            {
                bothProduct++;
                agreeProduct += SameProduct(n.Product!, o.Product!) ? 1 : 0;
            }

            if (n?.HasProduct == true && o?.HasProduct == true)
            {
                ourWhereNmap++;
            }

            if (n?.HasVersion == true && o?.HasVersion == true)
            {
                bothVersion++;
                agreeVersion += SameVersion(n.Version!, o.Version!) ? 1 : 0;
                ourVersionWhereNmap++;
            }

            var label = $"{owner.GetValueOrDefault(key.Item1, "?")} :{key.Port}";
            Console.WriteLine($"{Cut(label, 26),-26} {Cut(Describe(n), 52),-52} {Cut(Describe(o), 52),-52}");
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"services listening:            {keys.Count}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"nmap -sV:  product on {nProduct,3}, version on {nVersion,3}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exposure:  product on {oProduct,3}, version on {oVersion,3}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"where nmap names a product, exposure names one too: {ourWhereNmap}/{nProduct} ({Percent(ourWhereNmap, nProduct)})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"where nmap gives a version, exposure gives one too:  {ourVersionWhereNmap}/{nVersion} ({Percent(ourVersionWhereNmap, nVersion)})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"product agrees on {agreeProduct}/{bothProduct} services where both name one; version agrees on {agreeVersion}/{bothVersion} where both give one"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wall time: nmap {nmapTime.TotalSeconds:F1} s, exposure {ourTime.TotalSeconds:F1} s, ratio exposure/nmap = {ourTime.TotalSeconds / nmapTime.TotalSeconds:F3} (target <= 0.200)"));
    }

    private static string Describe(Service? s)
        => s is null ? "-" : $"{s.Name ?? "?"}: {(s.HasProduct ? s.Product : "(no product)")}{(s.HasVersion ? " " + s.Version : string.Empty)}";

    private static string Cut(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "~";

    private static string Percent(int part, int whole) => whole == 0 ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{100.0 * part / whole:F0}%");

    /// <summary>Products agree when one name contains the other or both start with the same word ("Apache httpd" / "Apache").</summary>
    private static bool SameProduct(string a, string b)
    {
        var x = Words(a);
        var y = Words(b);
        var xs = string.Join(' ', x);
        var ys = string.Join(' ', y);
        return xs.Contains(ys, StringComparison.Ordinal) || ys.Contains(xs, StringComparison.Ordinal) || (x.Count > 0 && y.Count > 0 && x[0] == y[0]);
    }

    /// <summary>Versions agree when equal or when one contains the other ("5.5.5-10.11.19-MariaDB-0+deb12u1" / "10.11.19").</summary>
    private static bool SameVersion(string a, string b)
        => a.Contains(b, StringComparison.OrdinalIgnoreCase) || b.Contains(a, StringComparison.OrdinalIgnoreCase);

    private static List<string> Words(string text)
        => [.. text.ToLowerInvariant().Split([' ', '-', '_', '/', '(', ')', ','], StringSplitOptions.RemoveEmptyEntries)];

    private static Dictionary<(string, int), Service> ParseNmap(string path)
    {
        var result = new Dictionary<(string, int), Service>();
        var doc = XDocument.Load(path);
        foreach (var host in doc.Descendants("host"))
        {
            var address = host.Elements("address").FirstOrDefault(a => (string?)a.Attribute("addrtype") == "ipv4")?.Attribute("addr")?.Value;
            if (address is null)
            {
                continue;
            }

            foreach (var port in host.Descendants("port"))
            {
                if ((string?)port.Element("state")?.Attribute("state") != "open" || (string?)port.Attribute("protocol") != "tcp")
                {
                    continue;
                }

                var service = port.Element("service");
                var tunnel = (string?)service?.Attribute("tunnel");
                var name = (string?)service?.Attribute("name");
                result[(address, int.Parse(port.Attribute("portid")!.Value, CultureInfo.InvariantCulture))] = new Service(
                    address, int.Parse(port.Attribute("portid")!.Value, CultureInfo.InvariantCulture),
                    tunnel is null ? name : $"{tunnel}/{name}", (string?)service?.Attribute("product"), (string?)service?.Attribute("version"));
            }
        }

        return result;
    }

    private static Dictionary<(string, int), Service> ParseOurs(string path)
    {
        var result = new Dictionary<(string, int), Service>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.GetProperty("transport").GetString() != "tcp")
            {
                continue;
            }

            var address = root.GetProperty("ip_str").GetString()!;
            var port = root.GetProperty("port").GetInt32();
            string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            var module = root.TryGetProperty("_shodan", out var shodan) && shodan.TryGetProperty("module", out var m) ? m.GetString() : null;
            result[(address, port)] = new Service(address, port, module, Text("product"), Text("version"));
        }

        return result;
    }

    /// <summary>Starts every fixture (a public static StartAsync on each Daemon subclass) with its defaults, four at a time.</summary>
    private static async Task<List<Daemon>> StartDaemonsAsync()
    {
        var types = typeof(Daemon).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Daemon)) && !t.IsAbstract)
            .Select(t => (Type: t, Start: t.GetMethod("StartAsync", BindingFlags.Public | BindingFlags.Static)))
            .Where(x => x.Start is not null)
            .OrderBy(x => x.Type.Name, StringComparer.Ordinal)
            .ToList();
        Console.WriteLine($"starting {types.Count} daemon fixtures ...");
        var started = new List<Daemon>();
        using var gate = new SemaphoreSlim(4);
        using var bound = new CancellationTokenSource(DaemonStartBound);
        var tasks = types.Select(async x =>
        {
            await gate.WaitAsync(bound.Token);
            try
            {
                var parameters = x.Start!.GetParameters();
                var values = parameters.Select(p => p.ParameterType == typeof(CancellationToken) ? bound.Token : p.HasDefaultValue ? p.DefaultValue : null).ToArray();
                var task = (Task)x.Start.Invoke(null, values)!;
                await task;
                var daemon = (Daemon)task.GetType().GetProperty("Result")!.GetValue(task)!;
                lock (started)
                {
                    started.Add(daemon);
                }
            }
            catch (Exception e)
            {
                var reason = (e is TargetInvocationException { InnerException: { } inner } ? inner : e).Message.Split('\n')[0];
                Console.WriteLine($"  skipped {x.Type.Name}: {reason}");
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);
        return started;
    }

    /// <summary>The TCP sockets listening on the daemons' addresses, from ss(8).</summary>
    private static async Task<List<IPEndPoint>> ListeningTcpAsync(IReadOnlyCollection<IPAddress> addresses)
    {
        var wanted = addresses.Select(a => a.ToString()).ToHashSet(StringComparer.Ordinal);
        var ss = await RunProcessAsync(Which("ss") ?? "/usr/bin/ss", ["-Hltn"], TimeSpan.FromSeconds(20));
        var result = new List<IPEndPoint>();
        foreach (var line in ss.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length < 4)
            {
                continue;
            }

            // A JVM listens on a dual-stack socket: ss shows [::ffff:127.x.y.z]:port.
            var local = columns[3].Replace("[::ffff:", string.Empty, StringComparison.Ordinal).Replace("]", string.Empty, StringComparison.Ordinal);
            var colon = local.LastIndexOf(':');
            if (colon > 0 && wanted.Contains(local[..colon]) && int.TryParse(local[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            {
                result.Add(new IPEndPoint(IPAddress.Parse(local[..colon]), port));
            }
        }

        return [.. result.Distinct()];
    }

    private sealed record ProcessResult(int ExitCode, string Output);

    private static async Task<ProcessResult> RunProcessAsync(string file, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(file)} did not finish within {timeout.TotalMinutes:F0} min");
        }

        output.Append(await stdout).Append(await stderr);
        return new ProcessResult(process.ExitCode, output.ToString());
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string? Which(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Concat(["/usr/sbin", "/sbin"]).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "exposure")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (the `exposure` script)");
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
