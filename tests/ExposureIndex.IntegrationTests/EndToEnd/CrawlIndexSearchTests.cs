using System.Net;
using System.Text.Json;
using ExposureIndex.Cli;
using ExposureIndex.Cli.Hosting;
using ExposureIndex.Storage;
using ExposureIndex.TestCommon;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.EndToEnd;

/// <summary>
/// The whole product path (issue 2): real Debian daemons on distinct 127.x.y.z addresses stand in for internet
/// hosts; `exposure crawl` scans them and publishes over gRPC to a running `serve`; Debian's python3-shodan,
/// pointed at our API, finds them.
/// </summary>
public sealed class CrawlIndexSearchTests : IAsyncLifetime
{
    private readonly List<Daemon> _daemons = [];
    private readonly string _data = Path.Combine(Path.GetTempPath(), "exposure-e2e-" + Guid.NewGuid().ToString("N"));
    private ServerHost? _server;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        _daemons.Add(await OpenSshDaemon.StartAsync(new DaemonOptions { Address = Loopback.NextAddress() }, ct));
        _daemons.Add(await NginxDaemon.StartAsync(new DaemonOptions { Address = Loopback.NextAddress() }, "ExposureIndex end-to-end", ct));
        _daemons.Add(await VsftpdDaemon.StartAsync(new DaemonOptions { Address = Loopback.NextAddress() }, ct));
        _daemons.Add(await RedisDaemon.StartAsync(new DaemonOptions { Address = Loopback.NextAddress() }, ct));
        _server = await ServerHost.StartAsync(new ServeOptions
        {
            DataDirectory = _data,
            Store = new StoreLocation(StoreBackend.Embedded, _data, null),
            Http = new IPEndPoint(IPAddress.Loopback, 0),
            Grpc = new IPEndPoint(IPAddress.Loopback, 0),
            ApiKeys = ["e2e-key-0123456789"],
            Quiet = true,
        }, ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        foreach (var daemon in _daemons)
        {
            await daemon.DisposeAsync();
        }

        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    [Fact]
    public async Task CrawlThenShodanClient_FindsEveryDaemon()
    {
        Assert.All(_daemons, d => Assert.True(IPAddress.IsLoopback(d.Address)));
        var targets = string.Join(',', _daemons.Select(d => d.Address.ToString()));
        var ports = string.Join(',', _daemons.Select(d => d.Port).Distinct());

        // The real command line, in-process: refusal of loopback is lifted only by the explicit flag.
        var refused = await CliApp.RunAsync(["crawl", "--targets", targets, "--ports", ports, "--indexer", _server!.GrpcUrl.ToString(), "--quiet"]);
        Assert.Equal(2, refused);

        var exit = await CliApp.RunAsync(["crawl", "--targets", targets, "--ports", ports, "--indexer", _server.GrpcUrl.ToString(), "--allow-loopback", "--concurrency", "16", "--quiet"]);
        Assert.Equal(0, exit);

        var script = $$"""
            import json, shodan
            api = shodan.Shodan('e2e-key-0123456789')
            api.base_url = '{{_server.ApiUrl.ToString().TrimEnd('/')}}'
            hosts = {}
            for ip in {{JsonSerializer.Serialize(_daemons.Select(d => d.Address.ToString()))}}:
                h = api.host(ip)
                hosts[ip] = {'ports': h['ports'], 'data': [b['data'] for b in h['data']], 'products': [b.get('product') for b in h['data']]}
            total = api.count('net:127.0.0.0/8')['total']
            ssh = api.search('ssh port:{{_daemons[0].Port}}')
            by_product = {}
            for product, version in {{JsonSerializer.Serialize(_daemons.Select(d => new[] { d.Product, d.Version }))}}:
                found = api.search('product:"%s" version:"%s"' % (product, version))
                by_product[product] = [m['ip_str'] for m in found['matches']]
            facets = api.count('net:127.0.0.0/8', facets=['product'])['facets']['product']
            print(json.dumps({'hosts': hosts, 'total': total, 'ssh_total': ssh['total'], 'ssh_ip': ssh['matches'][0]['ip_str'] if ssh['matches'] else None,
                              'by_product': by_product, 'facets': dict((f['value'], f['count']) for f in facets)}))
            """;
        var output = await PythonScripts.RunAsync(script, requiredModules: new Dictionary<string, string> { ["shodan"] = "python3-shodan" });
        var result = JsonDocument.Parse(output).RootElement;

        Assert.Equal(_daemons.Count, result.GetProperty("total").GetInt32());
        foreach (var daemon in _daemons)
        {
            var host = result.GetProperty("hosts").GetProperty(daemon.Address.ToString());
            Assert.Equal([daemon.Port], host.GetProperty("ports").EnumerateArray().Select(p => p.GetInt32()));
        }

        var ssh = _daemons[0];
        Assert.Equal(ssh.Address.ToString(), result.GetProperty("ssh_ip").GetString());
        Assert.StartsWith("SSH-2.0-OpenSSH_", Data(result, ssh), StringComparison.Ordinal);
        Assert.Contains("vsFTPd " + _daemons[2].Version, Data(result, _daemons[2]), StringComparison.Ordinal);
        Assert.Contains("Server: nginx/" + _daemons[1].Version, Data(result, _daemons[1]), StringComparison.Ordinal);

        // Identified as the daemon itself says: product and the exact installed version, searchable with Shodan's filters.
        foreach (var daemon in _daemons)
        {
            var hits = result.GetProperty("by_product").GetProperty(daemon.Product).EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.True(hits.SequenceEqual([daemon.Address.ToString()]), $"product:\"{daemon.Product}\" version:\"{daemon.Version}\" found [{string.Join(", ", hits)}], expected {daemon.Address}");
            Assert.Equal(1, result.GetProperty("facets").GetProperty(daemon.Product).GetInt32());
        }
    }

    private static string Data(JsonElement result, Daemon daemon)
        => result.GetProperty("hosts").GetProperty(daemon.Address.ToString()).GetProperty("data")[0].GetString() ?? string.Empty;
}
