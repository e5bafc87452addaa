using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using ExposureIndex.TestCommon;

namespace ExposureIndex.IntegrationTests.Sweep;

/// <summary>
/// The real `exposure` command as a child process (the way operators and Kubernetes run it), so signals, exit codes,
/// standard output and error are the real ones. Bounded: every wait has a timeout, and dispose kills exactly this PID.
/// </summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CliProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static CliProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "exposure.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var variable in new[] { "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" })
        {
            start.Environment.Remove(variable);
        }

        start.Environment["NO_PROXY"] = "*";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) => cli.Append(cli._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => cli.Append(cli._stderr, e.Data);
        process.Exited += (_, _) => cli._exited.TrySetResult();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Runs the command to its end; returns exit code, standard output and error.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var cli = Start(args, environment);
        var exit = await cli.WaitAsync(timeout);
        return (exit, cli.Stdout, cli.Stderr);
    }

    /// <summary>Waits for the exit (and for the output streams to end); fails the test at the timeout.</summary>
    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        try
        {
            await _exited.Task.WaitAsync(timeout, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"exposure {_process.StartInfo.ArgumentList.Skip(2).FirstOrDefault()} did not exit within {timeout}:\n{Stderr}");
        }

        // The exit event comes before the last output lines; WaitForExit without a timeout drains them.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as Kubernetes does first.</summary>
    public void Terminate() => Signal(15);

    /// <summary>SIGKILL: no drain, no flush, no checkpoint - the crash the crawler must survive.</summary>
    public void KillNine() => Signal(9);

    /// <summary>Waits until standard output or error has a line matching <paramref name="pattern"/>; returns the match.</summary>
    public async Task<System.Text.RegularExpressions.Match> WaitForOutputAsync(System.Text.RegularExpressions.Regex pattern, TimeSpan timeout)
    {
        System.Text.RegularExpressions.Match? match = null;
        var found = await Poll.UntilAsync(() =>
        {
            match = pattern.Match(Stdout + "\n" + Stderr);
            return match.Success || _process.HasExited;
        }, timeout, TestContext.Current.CancellationToken);
        Assert.True(found && match!.Success, $"no line matching {pattern} within {timeout}:\n{Stdout}\n{Stderr}");
        return match!;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private void Signal(int signal)
    {
        if (!_process.HasExited && kill(_process.Id, signal) != 0)
        {
            Assert.Fail($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (buffer)
        {
            buffer.Append(line).Append('\n');
        }
    }

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int kill(int pid, int signal);
}

/// <summary>
/// Stand-ins for internet hosts: listeners on fresh 127.x addresses, every address on the same ports, each answering
/// a connection with a banner (a talk-first service), so a sweep of addresses x ports finds exactly these.
/// Bounded: accept loops end at dispose, and each connection is closed after its banner.
/// </summary>
internal sealed class Listeners : IDisposable
{
    private readonly List<TcpListener> _listeners = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private long _accepted;

    public Listeners(int addresses, int ports, string banner = "SSH-2.0-OpenSSH_9.6 sweep-test\r\n")
    {
        Addresses = [.. Enumerable.Range(0, addresses).Select(_ => Loopback.NextAddress())];
        // The same ports on every address; a port free on the first fresh address is free on the others too.
        var chosen = new List<int>();
        while (chosen.Count < ports)
        {
            var port = Loopback.FreeTcpPort(Addresses[0]);
            if (!chosen.Contains(port))
            {
                chosen.Add(port);
            }
        }

        Ports = chosen;
        var bytes = Encoding.ASCII.GetBytes(banner);
        foreach (var address in Addresses)
        {
            Assert.True(IPAddress.IsLoopback(address));
            foreach (var port in Ports)
            {
                var listener = new TcpListener(address, port);
                listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                listener.Start(256);
                _listeners.Add(listener);
                _loops.Add(AcceptAsync(listener, bytes));
            }
        }
    }

    public IReadOnlyList<IPAddress> Addresses { get; }

    public IReadOnlyList<int> Ports { get; }

    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Every listening ip:port.</summary>
    public IReadOnlyList<string> Keys => [.. Addresses.SelectMany(a => Ports.Select(p => $"{a}:{p}")).Order(StringComparer.Ordinal)];

    public string TargetList => string.Join(',', Addresses);

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var listener in _listeners)
        {
            listener.Stop();
        }

        Task.WhenAll(_loops).Wait(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }

    private async Task AcceptAsync(TcpListener listener, byte[] banner)
    {
        try
        {
            // Bounded: ends when the listener stops.
            while (!_stop.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            await client.GetStream().WriteAsync(banner, _stop.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
                            await Task.Delay(100, _stop.Token);
                        }
                        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or TimeoutException)
                        {
                            // The scanner may reset first; that is its business.
                        }
                    }
                });
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }
}

/// <summary>Reads what a crawl left behind: its stats JSON, its NDJSON records, its checkpoint.</summary>
internal static class SweepFiles
{
    public static JsonElement Stats(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone();

    /// <summary>The ip:port of every record line (each line must be a whole JSON object).</summary>
    public static List<string> RecordKeys(string ndjson)
        => [.. File.ReadAllLines(ndjson).Where(l => l.Length > 0).Select(l =>
        {
            using var record = JsonDocument.Parse(l);
            return $"{record.RootElement.GetProperty("ip_str").GetString()}:{record.RootElement.GetProperty("port").GetInt32()}";
        })];

    public static ulong CheckpointPosition(string path)
    {
        using var checkpoint = JsonDocument.Parse(File.ReadAllText(path));
        return ulong.Parse(checkpoint.RootElement.GetProperty("position").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static ulong UInt(JsonElement stats, string name) => stats.GetProperty(name).GetUInt64();
}
