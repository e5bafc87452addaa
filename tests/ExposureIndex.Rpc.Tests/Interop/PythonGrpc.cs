using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Rpc.Tests.Interop;

/// <summary>
/// Debian's python3-grpcio as a peer. The test .proto is compiled for Python at test time with Debian's
/// protoc (protobuf-compiler 3.21, matching python3-protobuf 3.21) into a temp dir. Every child process
/// runs /usr/bin/python3 with proxies removed from its environment, is bounded in time, and is stopped
/// by its own PID.
/// </summary>
internal static class PythonGrpc
{
    private static readonly TimeSpan ProcessBound = TimeSpan.FromSeconds(60);
    private static readonly SemaphoreSlim SetupLock = new(1, 1);
    private static string? _modulesDir;
    private static string? _unavailable;

    private static string ScriptsDir => Path.Combine(AppContext.BaseDirectory, "Interop", "python");

    /// <summary>Skips (with the reason) unless python3-grpcio, python3-protobuf and protoc are usable.</summary>
    public static async Task<string> RequireAsync(CancellationToken cancellationToken)
    {
        await SetupLock.WaitAsync(cancellationToken);
        try
        {
            if (_modulesDir is null && _unavailable is null)
            {
                _unavailable = await SetUpAsync(cancellationToken);
            }
        }
        finally
        {
            SetupLock.Release();
        }

        if (_unavailable is not null)
        {
            Requires.SkipOrFail(_unavailable);
        }

        return _modulesDir!;
    }

    /// <summary>Runs echo_client.py for one scenario and returns its RESULT object.</summary>
    public static async Task<JsonElement> RunClientAsync(int port, string scenario, CancellationToken cancellationToken)
    {
        var modules = await RequireAsync(cancellationToken);
        var (exitCode, stdout, stderr) = await RunAsync([Path.Combine(ScriptsDir, "echo_client.py"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), scenario], modules, cancellationToken);
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        Assert.True(exitCode == 0 && line is not null, $"python client '{scenario}' exited {exitCode}.\nstdout: {stdout}\nstderr: {stderr}");
        return JsonDocument.Parse(line!["RESULT ".Length..]).RootElement.Clone();
    }

    /// <summary>Starts echo_server.py on 127.0.0.1 and waits until it reports its port.</summary>
    public static async Task<PythonServer> StartServerAsync(CancellationToken cancellationToken)
    {
        var modules = await RequireAsync(cancellationToken);
        var process = Start([Path.Combine(ScriptsDir, "echo_server.py"), "--max-seconds", "300"], modules);
        var server = new PythonServer(process);
        try
        {
            var port = await server.WaitForPortAsync(TimeSpan.FromSeconds(30), cancellationToken);
            Assert.True(await Poll.TcpPortOpenAsync(System.Net.IPAddress.Loopback, port, TimeSpan.FromSeconds(10), cancellationToken), $"python server did not open 127.0.0.1:{port}");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private static async Task<string?> SetUpAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(RepoPaths.SystemPython))
        {
            return $"{RepoPaths.SystemPython} is missing (apt-get install python3 python3-grpcio python3-protobuf).";
        }

        var protoc = Requires.Which("protoc");
        if (protoc is null)
        {
            return "'protoc' is not installed (apt-get install protobuf-compiler).";
        }

        var probe = await RunAsync(["-c", "import grpc, google.protobuf; print(grpc.__version__, google.protobuf.__version__)"], null, cancellationToken);
        if (probe.ExitCode != 0)
        {
            return $"python3-grpcio / python3-protobuf are not importable by {RepoPaths.SystemPython} (apt-get install python3-grpcio python3-protobuf): {probe.Stderr.Trim()}";
        }

        var dir = Directory.CreateTempSubdirectory("exposureindex-rpc-py-").FullName;
        var protoDir = Path.Combine(AppContext.BaseDirectory, "Protos");
        var psi = new ProcessStartInfo(protoc) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("--python_out=" + dir);
        psi.ArgumentList.Add("-I" + protoDir);
        psi.ArgumentList.Add(Path.Combine(protoDir, "conformance.proto"));
        using var protocProcess = Process.Start(psi)!;
        var protocErrors = protocProcess.StandardError.ReadToEndAsync(cancellationToken);
        await protocProcess.WaitForExitAsync(cancellationToken).WaitAsync(ProcessBound, cancellationToken);
        if (protocProcess.ExitCode != 0)
        {
            return $"protoc failed to compile conformance.proto for python: {await protocErrors}";
        }

        _modulesDir = dir;
        return null;
    }

    private static Process Start(IEnumerable<string> arguments, string? modulesDir)
    {
        var psi = new ProcessStartInfo(RepoPaths.SystemPython)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = modulesDir ?? AppContext.BaseDirectory,
        };
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        // Loopback only: no proxy may be asked to reach anything, and grpc-core honours these variables.
        foreach (var name in new[] { "http_proxy", "https_proxy", "all_proxy", "grpc_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY" })
        {
            psi.Environment.Remove(name);
        }

        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        psi.Environment["PYTHONIOENCODING"] = "utf-8";
        if (modulesDir is not null)
        {
            psi.Environment["PYTHONPATH"] = modulesDir + Path.PathSeparator + ScriptsDir;
        }

        return Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {RepoPaths.SystemPython}.");
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> arguments, string? modulesDir, CancellationToken cancellationToken)
    {
        using var process = Start(arguments, modulesDir);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(ProcessBound, cancellationToken);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>A running echo_server.py; disposing closes its stdin and, if needed, kills exactly that process.</summary>
internal sealed class PythonServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Text.StringBuilder _stderr = new();

    public PythonServer(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _port.TrySetException(new InvalidOperationException("python server exited before reporting its port: " + Stderr));
                return;
            }

            _lines.Enqueue(e.Data);
            if (e.Data.StartsWith("PORT ", StringComparison.Ordinal))
            {
                _port.TrySetResult(int.Parse(e.Data[5..], System.Globalization.CultureInfo.InvariantCulture));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port => _port.Task.IsCompletedSuccessfully ? _port.Task.Result : throw new InvalidOperationException("not started");

    public string Address => $"http://127.0.0.1:{Port}";

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

    public IReadOnlyCollection<string> Lines => _lines;

    public Task<int> WaitForPortAsync(TimeSpan timeout, CancellationToken cancellationToken) => _port.Task.WaitAsync(timeout, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            _process.Dispose();
        }
    }
}
