using System.Text.RegularExpressions;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Fingerprinting.Probes;

/// <summary>One problem in a probe file, at a line. The loader reports it and carries on.</summary>
public sealed record ProbeDiagnostic(string File, int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}

internal enum ProbeProtocol
{
    Tcp = 0,
    Udp = 1,
}

/// <summary>
/// A probe of the service-probe DSL (the shape of nmap's <c>nmap-service-probes</c>): what to send, where it is
/// likely to help (<see cref="Ports"/>, <see cref="SslPorts"/>), how rare a hit is, how long to wait, and the
/// match lines that recognise the answer.
/// </summary>
internal sealed class ServiceProbe
{
    public ServiceProbe(ProbeProtocol protocol, string name, byte[] payload, string file, int line)
    {
        Protocol = protocol;
        Name = name;
        Payload = payload;
        File = file;
        Line = line;
    }

    public ProbeProtocol Protocol { get; }

    public string Name { get; }

    /// <summary>The bytes sent; empty for the NULL probe (just listen).</summary>
    public byte[] Payload { get; }

    public string File { get; }

    public int Line { get; }

    public bool IsNull => Payload.Length == 0 && Protocol == ProbeProtocol.Tcp;

    public PortSet Ports { get; set; } = PortSet.Empty;

    public PortSet SslPorts { get; set; } = PortSet.Empty;

    /// <summary>1 (answers often) to 9 (rarely): probes above the intensity are skipped unless the port is listed.</summary>
    public int Rarity { get; set; } = 5;

    /// <summary>Probe names whose matches are tried when this probe's own do not match.</summary>
    public List<string> FallbackNames { get; } = [];

    /// <summary>Resolved <see cref="FallbackNames"/> (set by the catalog).</summary>
    public IReadOnlyList<ServiceProbe> Fallbacks { get; set; } = [];

    public TimeSpan? TotalWait { get; set; }

    public TimeSpan? TcpWrappedWait { get; set; }

    public List<ServiceMatch> Matches { get; } = [];

    /// <summary>Services this probe (with its fallbacks) can identify with a hard match: soft matches narrow to these.</summary>
    public bool CanHardMatch(string service)
        => Matches.Any(m => !m.IsSoft && string.Equals(m.Service, service, StringComparison.OrdinalIgnoreCase))
            || Fallbacks.Any(f => f != this && f.Matches.Any(m => !m.IsSoft && string.Equals(m.Service, service, StringComparison.OrdinalIgnoreCase)));

    public override string ToString() => $"{Protocol.ToString().ToUpperInvariant()} {Name} ({File}:{Line})";
}

/// <summary>
/// A <c>match</c> or <c>softmatch</c> line: the service, the pattern (PCRE syntax, translated to .NET once and
/// compiled lazily on first use) and the version-info template.
/// </summary>
internal sealed class ServiceMatch
{
    private readonly Lazy<Regex?> _regex;
    private string? _compileError;

    public ServiceMatch(string service, bool isSoft, string pattern, bool ignoreCase, bool dotAll, VersionTemplate template, string file, int line, TimeSpan matchTimeout)
    {
        Service = service;
        IsSoft = isSoft;
        Pattern = pattern;
        IgnoreCase = ignoreCase;
        DotAll = dotAll;
        Template = template;
        File = file;
        Line = line;
        _regex = new Lazy<Regex?>(() => Compile(matchTimeout), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>nmap's service name ("http", "ssh", "ssl/http" for a service nmap knows is inside TLS).</summary>
    public string Service { get; }

    public bool IsSoft { get; }

    public string Pattern { get; }

    public bool IgnoreCase { get; }

    public bool DotAll { get; }

    public VersionTemplate Template { get; }

    public string File { get; }

    public int Line { get; }

    /// <summary>The compiled regex, or null when the pattern cannot be translated (see <see cref="CompileError"/>).</summary>
    public Regex? Regex => _regex.Value;

    public string? CompileError
    {
        get
        {
            _ = _regex.Value;
            return _compileError;
        }
    }

    private Regex? Compile(TimeSpan matchTimeout)
    {
        if (!PcreTranslator.TryTranslate(Pattern, out var translated, out var error))
        {
            _compileError = error;
            return null;
        }

        // CultureInvariant: case folding must not depend on the machine. No RegexOptions.Compiled: most of the
        // thousands of patterns in a large probe file run a handful of times, and interpretation starts at once.
        // Not RegexOptions.NonBacktracking, measured on nmap's 11,917 patterns: it rejects back-references,
        // lookarounds and atomic groups (which probe files use), and building its automata cost ~15 ms per pattern
        // against ~0.06 ms for the interpreter (1,500 patterns: 23 s vs 96 ms; all of them exhausted the test
        // host's memory on a 20 KB response). A catastrophic pattern is instead bounded by the match timeout
        // (the per-regex TimeSpan below) plus ProbeMatcher's per-response budget.
        var options = RegexOptions.CultureInvariant;
        if (IgnoreCase)
        {
            options |= RegexOptions.IgnoreCase;
        }

        if (DotAll)
        {
            options |= RegexOptions.Singleline;
        }

        try
        {
            return new Regex(translated, options, matchTimeout);
        }
        catch (ArgumentException e)
        {
            _compileError = e.Message;
            return null;
        }
    }

    public override string ToString() => $"{(IsSoft ? "softmatch" : "match")} {Service} ({File}:{Line})";
}
