namespace ExposureIndex.Cli;

/// <summary>A user-facing failure: printed as one line ("exposure: ..."), exit code non-zero.</summary>
internal sealed class CliException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
