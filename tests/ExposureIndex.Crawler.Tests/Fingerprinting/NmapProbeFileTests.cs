using System.Diagnostics;
using System.Text;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Fingerprinting.Probes;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Crawler.Tests.Fingerprinting;

/// <summary>The loader against the user's own nmap-service-probes (read from the nmap installation, never copied).</summary>
public sealed class NmapProbeFileTests(ITestOutputHelper output)
{
    private const string NmapFile = "/usr/share/nmap/nmap-service-probes";

    [Fact]
    public void Parse_NmapServiceProbes_LoadsEveryProbeAndAlmostEveryMatch()
    {
        var path = Requires.File(NmapFile, "nmap's service probe file (apt-get install nmap)");
        var clock = Stopwatch.StartNew();
        var file = ProbeFileParser.Parse(File.ReadAllText(path, Encoding.Latin1), path);
        var parsed = clock.Elapsed;
        var catalog = ProbeCatalog.Load([file]);
        var compileErrors = catalog.CompileAll();
        output.WriteLine($"parsed {file.Probes.Count} probes, {catalog.MatchCount} match lines in {parsed.TotalMilliseconds:F0} ms; compiled all in {clock.Elapsed.TotalMilliseconds:F0} ms");
        foreach (var d in file.Diagnostics.Concat(compileErrors))
        {
            output.WriteLine(d.ToString());
        }

        var probeLines = File.ReadLines(path, Encoding.Latin1).Count(l => l.StartsWith("Probe ", StringComparison.Ordinal));
        var matchLines = File.ReadLines(path, Encoding.Latin1).Count(l => l.StartsWith("match ", StringComparison.Ordinal) || l.StartsWith("softmatch ", StringComparison.Ordinal));
        Assert.Equal(probeLines, file.Probes.Count);
        Assert.Empty(file.Diagnostics);
        // Every line reaches the catalog; at most a handful of patterns use PCRE features .NET lacks.
        Assert.Equal(matchLines, catalog.MatchCount);
        Assert.True(compileErrors.Count <= 10, $"{compileErrors.Count} patterns could not be translated");
        Assert.NotNull(catalog.Null);
        Assert.Contains(catalog.Tcp, p => p.Name == "GetRequest" && p.Rarity == 1 && p.Ports.Contains(80) && p.SslPorts.Contains(443));
        Assert.True(catalog.Excluded.Tcp.Contains(9100));
    }

    [Fact]
    public async Task IdentifyTcpAsync_WithNmapFileOnTop_ItsSpecificLinesBeatOurCatchAlls()
    {
        var path = Requires.File(NmapFile, "nmap's service probe file (apt-get install nmap)");
        await using var server = ScriptedServer.Respond("SSH-2.0-Sun_SSH_1.1\r\n", _ => null);

        var ours = await EngineHarness.IdentifyAsync(EngineHarness.Scanner(ProbeCatalog.Default), server);
        Assert.Equal("Sun_SSH_1.1", ours.Fingerprint!.Product);

        var both = ProbeCatalog.Create([path]);
        var result = await EngineHarness.IdentifyAsync(EngineHarness.Scanner(both), server);
        Assert.Equal("ssh", result.Service);
        Assert.Equal("SunSSH", result.Fingerprint!.Product);
        Assert.Equal("1.1", result.Fingerprint.Version);
        Assert.Equal(path, result.Fingerprint.Match.File);

        // Our own specific lines still come first for what we know.
        await using var openssh = ScriptedServer.Respond("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", _ => null);
        var mine = await EngineHarness.IdentifyAsync(EngineHarness.Scanner(both), openssh);
        Assert.Equal(ProbeCatalog.EmbeddedName, mine.Fingerprint!.Match.File);
        Assert.Equal("9.2p1", mine.Fingerprint.Version);
    }
}
