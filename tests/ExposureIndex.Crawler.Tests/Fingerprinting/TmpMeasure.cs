using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ExposureIndex.Crawler.Fingerprinting.Probes;

namespace ExposureIndex.Crawler.Tests.Fingerprinting;

public sealed class TmpMeasure(ITestOutputHelper output)
{
    [Fact]
    public void Measure()
    {
        var file = ProbeFileParser.Parse(File.ReadAllText("/usr/share/nmap/nmap-service-probes", Encoding.Latin1), "nmap");
        var matches = file.Probes.SelectMany(p => p.Matches).Take(1500).ToList();
        int nbFail = 0; var reasons = new Dictionary<string,int>();
        var bt = new List<Regex>(); var nb = new List<Regex>();
        var c1 = Stopwatch.StartNew();
        foreach (var m in matches) { PcreTranslator.TryTranslate(m.Pattern, out var t, out _); bt.Add(new Regex(t, RegexOptions.CultureInvariant | (m.DotAll ? RegexOptions.Singleline : 0) | (m.IgnoreCase ? RegexOptions.IgnoreCase : 0))); }
        var btBuild = c1.Elapsed; c1.Restart();
        foreach (var m in matches) { PcreTranslator.TryTranslate(m.Pattern, out var t, out _); try { nb.Add(new Regex(t, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant | (m.DotAll ? RegexOptions.Singleline : 0) | (m.IgnoreCase ? RegexOptions.IgnoreCase : 0))); } catch (NotSupportedException e) { nbFail++; var k = e.Message.Length > 60 ? e.Message[..60] : e.Message; reasons[k] = reasons.GetValueOrDefault(k) + 1; } }
        var nbBuild = c1.Elapsed;
        output.WriteLine($"backtracking build {btBuild.TotalMilliseconds:F0} ms; nonbacktracking build {nbBuild.TotalMilliseconds:F0} ms, {nbFail} unsupported");
        foreach (var r in reasons) output.WriteLine($"  {r.Value} {r.Key}");
        var inputs = new[] { "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n\r\n" + new string((char)120, 2000), "220 (vsFTPd 3.0.3)\r\n" };
        foreach (var input in inputs) {
          c1.Restart(); int h = 0; foreach (var r in bt) if (r.IsMatch(input)) h++; var a = c1.Elapsed;
          c1.Restart(); int h2 = 0; foreach (var r in nb) if (r.IsMatch(input)) h2++; var b = c1.Elapsed;
          c1.Restart(); foreach (var r in nb) r.IsMatch(input); var b2 = c1.Elapsed;
          c1.Restart(); foreach (var r in bt) r.IsMatch(input); var a2 = c1.Elapsed;
          output.WriteLine($"input {input.Length}: bt {a.TotalMilliseconds:F0}/{a2.TotalMilliseconds:F0} ms ({h} hits), nb {b.TotalMilliseconds:F0}/{b2.TotalMilliseconds:F0} ms ({h2} hits)");
        }
        var bomb = new Regex("^(a+)+$", RegexOptions.None, TimeSpan.FromMilliseconds(100));
        var nbomb = new Regex("^(a+)+$", RegexOptions.NonBacktracking);
        c1.Restart(); try { bomb.IsMatch(new string('a', 40) + "b"); } catch (RegexMatchTimeoutException) { output.WriteLine("bomb timed out"); } output.WriteLine($"bomb bt {c1.Elapsed.TotalMilliseconds:F0} ms");
        c1.Restart(); nbomb.IsMatch(new string('a', 40) + "b"); output.WriteLine($"bomb nb {c1.Elapsed.TotalMilliseconds:F2} ms");
    }
}
