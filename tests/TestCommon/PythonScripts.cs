using System.Diagnostics;
using Xunit;

namespace ExposureIndex.TestCommon;

/// <summary>
/// Runs scripts under Debian's /usr/bin/python3 (the pyenv python3 on PATH cannot see Debian's modules) with a
/// timeout and no proxy settings, so clients such as python3-shodan or python3-grpcio talk straight to loopback.
/// </summary>
public static class PythonScripts
{
    /// <summary>Runs <paramref name="script"/> (fed on stdin) and returns stdout; skips when a required module is missing.</summary>
    public static async Task<string> RunAsync(string script, IReadOnlyList<string>? args = null, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? requiredModules = null)
    {
        var python = Requires.File(RepoPaths.SystemPython, "Debian's python3");
        foreach (var (module, package) in requiredModules ?? new Dictionary<string, string>())
        {
            var probe = await RunProcessAsync(python, ["-c", "import " + module], null, TimeSpan.FromSeconds(30));
            if (probe.ExitCode != 0)
            {
                Requires.SkipOrFail($"python module '{module}' is missing (apt-get install {package}; ./test.sh installs it)");
            }
        }

        var result = await RunProcessAsync(python, ["-", .. args ?? []], script, timeout ?? TimeSpan.FromSeconds(120));
        Assert.True(result.ExitCode == 0, $"python exited {result.ExitCode}:\n{result.Stderr}");
        return result.Stdout;
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunProcessAsync(string file, IReadOnlyList<string> args, string? stdin, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var variable in new[] { "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "PYTHONPATH" })
        {
            start.Environment.Remove(variable);
        }

        start.Environment["NO_PROXY"] = "*";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        using var cts = new CancellationTokenSource(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
