using System.Text.Json;
using ExposureIndex.Crawler.Engine;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Publishing;
using ExposureIndex.TestCommon.Daemons;
using static ExposureIndex.IntegrationTests.Fingerprinting.FingerprintHarness;

namespace ExposureIndex.IntegrationTests.Fingerprinting.Udp;

/// <summary>
/// The crawler's UDP path end to end: `U:` ports get the UDP probes (DNS, SNMP, NTP, SIP) through the grab
/// network, the deep grabbers follow, and only ports that answered produce records.
/// </summary>
public sealed class UdpCrawlTests
{
    [Fact(Timeout = TestTimeoutMs)]
    public async Task RunAsync_UdpDaemons_EachAnsweringPortGetsAnIdentifiedRecord()
    {
        await using var bind = await BindDaemon.StartAsync(cancellationToken: Ct);
        await using var snmp = await NetSnmpDaemon.StartAsync(cancellationToken: Ct);
        await using var ntp = await NtpsecDaemon.StartAsync(cancellationToken: Ct);
        await using var sip = await KamailioDaemon.StartAsync(cancellationToken: Ct);
        Daemon[] daemons = [bind, snmp, ntp, sip];
        var output = Path.Combine(Path.GetTempPath(), $"exposure-udp-crawl-{Guid.NewGuid():N}.ndjson");
        try
        {
            var options = new CrawlOptions
            {
                Targets = [.. daemons.Select(d => d.Address.ToString())],
                Ports = "U:" + string.Join(',', daemons.Select(d => d.Port).Distinct()),
                AllowLoopback = true,
                Concurrency = 16,
                ReadTimeout = TimeSpan.FromSeconds(2),
                TargetDeadline = TimeSpan.FromSeconds(15),
                OutputPath = output,
                ScanId = "udp-crawl",
            };
            CrawlSummary summary;
            await using (var sink = RecordSinks.Open(options))
            {
                summary = await new CrawlRunner().RunAsync(options, sink, null, Ct).WaitAsync(TimeSpan.FromSeconds(120), Ct);
            }

            var records = (await File.ReadAllLinesAsync(output, Ct)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.All(records, r => Assert.Equal("udp", r.GetProperty("transport").GetString()));
            // Only the four daemons' own ports answered; every other address x port pair stayed silent or refused.
            Assert.Equal(4, records.Count);
            Assert.Equal(4, summary.Open);
            foreach (var daemon in daemons)
            {
                var record = Assert.Single(records, r => r.GetProperty("ip_str").GetString() == daemon.Address.ToString() && r.GetProperty("port").GetInt32() == daemon.Port);
                var product = record.TryGetProperty("product", out var p) ? p.GetString() : null;
                Assert.False(string.IsNullOrEmpty(product), $"{daemon}: no product in {record}");
            }

            var sipRecord = records.Single(r => r.GetProperty("ip_str").GetString() == sip.Address.ToString());
            Assert.Equal(sip.Version, sipRecord.GetProperty("version").GetString());
            var dnsRecord = records.Single(r => r.GetProperty("ip_str").GetString() == bind.Address.ToString());
            Assert.StartsWith(bind.Version, dnsRecord.GetProperty("version").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(output);
        }
    }
}
