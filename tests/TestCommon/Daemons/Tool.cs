using System.Diagnostics;
using System.Text;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>What a short-lived helper command printed.</summary>
public sealed record ToolResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    public string Combined => StandardOutput + StandardError;

    /// <summary>Throws naming the command and its output unless it exited with 0.</summary>
    public ToolResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"'{CommandLine}' exited with code {ExitCode}: {Tail(Combined, 2000)}");
        }

        return this;
    }

    internal static string Tail(string text, int chars) => text.Length <= chars ? text.Trim() : "..." + text[^chars..].Trim();
}

/// <summary>Runs helper commands (version queries, key generation, database initialisation) with a bounded time.</summary>
public static class Tool
{
    public static ToolResult Run(string executable, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
        => RunAsync(new DaemonCommand(executable, [.. arguments]), timeout, workingDirectory).GetAwaiter().GetResult();

    public static async Task<ToolResult> RunAsync(DaemonCommand command, TimeSpan timeout, string? workingDirectory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var argv = command.ToArgv();
        var info = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var arg in argv.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in command.Environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start '{command}'.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return new ToolResult(command.ToString(), process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited between the timeout and the kill.
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"'{command}' did not finish within {timeout.TotalSeconds:0.#} s.");
        }
    }
}
