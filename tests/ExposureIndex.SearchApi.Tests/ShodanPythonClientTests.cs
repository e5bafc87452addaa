using System.Text.Json;
using ExposureIndex.SearchApi.Tests.Support;
using ExposureIndex.TestCommon;

namespace ExposureIndex.SearchApi.Tests;

/// <summary>Debian's python3-shodan, unchanged, with api.base_url pointed at our server.</summary>
public sealed class ShodanPythonClientTests : IAsyncLifetime
{
    private ApiServer? _server;

    public async ValueTask InitializeAsync() => _server = await ApiServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Client_HostSearchCountInfoFilters_Work()
    {
        var result = await RunShodanAsync("""
            host = api.host('198.51.100.10')
            history = api.host('198.51.100.10', history=True)
            search = api.search('product:nginx port:80', facets=['country', ('port', 3)])
            count = api.count('country:US', facets=['product'])
            info = api.info()
            filters = api.search_filters()
            cursor = sum(1 for _ in api.search_cursor('product:bulk'))
            out = {
              'ports': host['ports'], 'country': host['country_code'], 'banners': len(host['data']),
              'history_banners': len(history['data']),
              'search_total': search['total'], 'search_product': search['matches'][0]['product'],
              'facet_port': search['facets']['port'][0]['value'],
              'count_total': count['total'], 'count_facet': count['facets']['product'][0]['value'],
              'plan': info['plan'], 'has_port_filter': 'port' in filters, 'cursor': cursor,
            }
            """);
        Assert.Equal([22, 80], result.GetProperty("ports").EnumerateArray().Select(p => p.GetInt32()));
        Assert.Equal("US", result.GetProperty("country").GetString());
        Assert.Equal(2, result.GetProperty("banners").GetInt32());
        Assert.Equal(3, result.GetProperty("history_banners").GetInt32());
        Assert.Equal(1, result.GetProperty("search_total").GetInt32());
        Assert.Equal("nginx", result.GetProperty("search_product").GetString());
        Assert.Equal(80, result.GetProperty("facet_port").GetInt32());
        Assert.Equal(252, result.GetProperty("count_total").GetInt32());
        Assert.Equal("bulk", result.GetProperty("count_facet").GetString());
        Assert.Equal("exposureindex", result.GetProperty("plan").GetString());
        Assert.True(result.GetProperty("has_port_filter").GetBoolean());
        Assert.Equal(250, result.GetProperty("cursor").GetInt32());
    }

    [Fact]
    public async Task Client_Errors_SurfaceAsApiErrorWithOurMessage()
    {
        var result = await RunShodanAsync("""
            def err(f):
                try:
                    f()
                    return None
                except shodan.APIError as e:
                    return str(e)
            bad = shodan.Shodan('wrong-key-123')
            bad.base_url = api.base_url
            out = {
              'query': err(lambda: api.search('prot:22')),
              'key': err(lambda: bad.host('198.51.100.10')),
              'missing': err(lambda: api.host('192.0.2.1')),
            }
            """);
        Assert.Equal("unknown filter 'prot' at position 0 (did you mean 'port'?)", result.GetProperty("query").GetString());
        Assert.Equal("Invalid API key.", result.GetProperty("key").GetString());
        Assert.Equal("No information available for that IP.", result.GetProperty("missing").GetString());
    }

    private async Task<JsonElement> RunShodanAsync(string body)
    {
        var script = "import json, shodan\n"
            + $"api = shodan.Shodan('{ApiServer.Key}')\n"
            + $"api.base_url = '{_server!.BaseUrl.ToString().TrimEnd('/')}'\n"
            + string.Join('\n', body.Split('\n').Select(l => l.TrimEnd()))
            + "\nprint(json.dumps(out))\n";
        var stdout = await PythonScripts.RunAsync(script, requiredModules: new Dictionary<string, string> { ["shodan"] = "python3-shodan" });
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }
}
