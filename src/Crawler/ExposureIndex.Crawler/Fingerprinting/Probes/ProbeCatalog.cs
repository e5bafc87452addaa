using System.Reflection;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Fingerprinting.Probes;

/// <summary>
/// Every probe the engine may send: our own file (an embedded resource) first, then any extra files (e.g. the user's
/// own nmap-service-probes). Probes of the same protocol and name merge when their payloads agree (our match lines
/// first); a same-named probe with a different payload is kept apart as "name@file". Fallback names resolve within
/// the file first, then across files; TCP probes fall back to the NULL probe implicitly, as nmap does.
/// </summary>
internal sealed class ProbeCatalog
{
    public const string EmbeddedName = "exposure-service-probes";

    private static readonly Lazy<ProbeCatalog> BuiltIn = new(() => Load([LoadEmbeddedFile()]));

    private ProbeCatalog(IReadOnlyList<ServiceProbe> probes, PortSpec excluded, IReadOnlyList<ProbeDiagnostic> diagnostics, IReadOnlyList<string> files)
    {
        Probes = probes;
        Tcp = [.. probes.Where(p => p.Protocol == ProbeProtocol.Tcp && !p.IsNull)];
        Udp = [.. probes.Where(p => p.Protocol == ProbeProtocol.Udp)];
        Null = probes.FirstOrDefault(p => p.IsNull);
        Excluded = excluded;
        Diagnostics = diagnostics;
        Files = files;
    }

    /// <summary>Our own probe file alone, parsed once per process.</summary>
    public static ProbeCatalog Default => BuiltIn.Value;

    public IReadOnlyList<ServiceProbe> Probes { get; }

    /// <summary>TCP probes other than NULL, in file order.</summary>
    public IReadOnlyList<ServiceProbe> Tcp { get; }

    public IReadOnlyList<ServiceProbe> Udp { get; }

    /// <summary>The NULL probe (listen for a banner), if any file declares one.</summary>
    public ServiceProbe? Null { get; }

    /// <summary>Ports no probe is sent to (the files' Exclude lines).</summary>
    public PortSpec Excluded { get; }

    public IReadOnlyList<ProbeDiagnostic> Diagnostics { get; }

    public IReadOnlyList<string> Files { get; }

    public int MatchCount => Probes.Sum(p => p.Matches.Count);

    /// <summary>Our file plus <paramref name="extraFiles"/> (read from disk; an unreadable file is a diagnostic).</summary>
    public static ProbeCatalog Create(IReadOnlyList<string> extraFiles)
    {
        ArgumentNullException.ThrowIfNull(extraFiles);
        if (extraFiles.Count == 0)
        {
            return Default;
        }

        var files = new List<ProbeFile> { LoadEmbeddedFile() };
        foreach (var path in extraFiles)
        {
            string text;
            try
            {
                text = File.ReadAllText(path, System.Text.Encoding.Latin1);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                files.Add(new ProbeFile(path, [], new PortSpec(PortSet.Empty, PortSet.Empty), [new ProbeDiagnostic(path, 0, $"cannot read the probe file: {e.Message}")]));
                continue;
            }

            files.Add(ProbeFileParser.Parse(text, path));
        }

        return Load(files);
    }

    /// <summary>Builds a catalog from parsed files, in priority order.</summary>
    public static ProbeCatalog Load(IReadOnlyList<ProbeFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var diagnostics = new List<ProbeDiagnostic>();
        var merged = new List<ServiceProbe>();
        var byKey = new Dictionary<(ProbeProtocol, string), ServiceProbe>();
        var owners = new Dictionary<ServiceProbe, ProbeFile>();
        foreach (var file in files)
        {
            diagnostics.AddRange(file.Diagnostics);
            foreach (var probe in file.Probes)
            {
                owners[probe] = file;
                if (byKey.TryGetValue((probe.Protocol, probe.Name), out var existing))
                {
                    if (existing.Payload.AsSpan().SequenceEqual(probe.Payload))
                    {
                        // Same probe in two files: one probe, both sets of match lines. The earlier file's specific
                        // lines come first, then the later file's, then the earlier file's catch-alls (no product, or
                        // a product that is only a capture group), so that e.g. nmap's SunSSH line is not shadowed by
                        // our generic "any SSH implementation" line.
                        var generic = existing.Matches.Where(IsCatchAll).ToList();
                        existing.Matches.RemoveAll(generic.Contains);
                        existing.Matches.AddRange(probe.Matches);
                        existing.Matches.AddRange(generic);
                        existing.Ports = PortSet.From(existing.Ports.Ranges.Concat(probe.Ports.Ranges));
                        existing.SslPorts = PortSet.From(existing.SslPorts.Ranges.Concat(probe.SslPorts.Ranges));
                        existing.FallbackNames.AddRange(probe.FallbackNames.Where(n => !existing.FallbackNames.Contains(n, StringComparer.Ordinal)));
                        continue;
                    }

                    if (existing.File == probe.File)
                    {
                        diagnostics.Add(new ProbeDiagnostic(probe.File, probe.Line, $"a second {probe.Protocol.ToString().ToUpperInvariant()} probe named '{probe.Name}' (first at line {existing.Line}); it is kept as a separate probe"));
                    }
                }
                else
                {
                    byKey[(probe.Protocol, probe.Name)] = probe;
                }

                merged.Add(probe);
            }
        }

        foreach (var probe in merged)
        {
            var fallbacks = new List<ServiceProbe>();
            foreach (var name in probe.FallbackNames)
            {
                var target = merged.FirstOrDefault(p => p.Name == name && p.Protocol == probe.Protocol && owners.GetValueOrDefault(p) == owners.GetValueOrDefault(probe))
                    ?? merged.FirstOrDefault(p => p.Name == name && p.Protocol == probe.Protocol)
                    // nmap lets a UDP probe fall back to a TCP probe's matches (DNS over both).
                    ?? merged.FirstOrDefault(p => p.Name == name);
                if (target is null)
                {
                    diagnostics.Add(new ProbeDiagnostic(probe.File, probe.Line, $"probe '{probe.Name}' falls back to unknown probe '{name}'"));
                }
                else if (target != probe)
                {
                    fallbacks.Add(target);
                }
            }

            probe.Fallbacks = fallbacks;
        }

        var excluded = new PortSpec(
            PortSet.From(files.SelectMany(f => f.Excluded.Tcp.Ranges)),
            PortSet.From(files.SelectMany(f => f.Excluded.Udp.Ranges)));
        return new ProbeCatalog(merged, excluded, diagnostics, [.. files.Select(f => f.Name)]);
    }

    /// <summary>
    /// Compiles every pattern now (normally each compiles on first use) and returns the ones that cannot be
    /// used, with their lines: the full report for a user-supplied file.
    /// </summary>
    public IReadOnlyList<ProbeDiagnostic> CompileAll()
    {
        var errors = new List<ProbeDiagnostic>();
        foreach (var match in Probes.SelectMany(p => p.Matches))
        {
            if (match.CompileError is { } error)
            {
                errors.Add(new ProbeDiagnostic(match.File, match.Line, $"{(match.IsSoft ? "softmatch" : "match")} {match.Service}: pattern cannot be used: {error}"));
            }
        }

        return errors;
    }

    /// <summary>A line that names no product of its own: none at all, or only what a capture group says.</summary>
    internal static bool IsCatchAll(ServiceMatch match)
        => match.Template.Product is not { Length: > 0 } product
            || System.Text.RegularExpressions.Regex.IsMatch(product, @"^\$(?:\d|P\(\d\))$", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));

    internal static ProbeFile LoadEmbeddedFile()
    {
        var assembly = typeof(ProbeCatalog).Assembly;
        var resource = assembly.GetManifestResourceNames().FirstOrDefault(n => n.EndsWith(EmbeddedName, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"the embedded probe file '{EmbeddedName}' is missing from {assembly.GetName().Name}");
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
        return ProbeFileParser.Parse(reader.ReadToEnd(), EmbeddedName);
    }

    internal static Assembly ResourceAssembly => typeof(ProbeCatalog).Assembly;
}
