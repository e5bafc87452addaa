using System.CommandLine;
using System.Globalization;
using ExposureIndex.Cli.Hosting;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Query;
using ExposureIndex.Storage;

namespace ExposureIndex.Cli.Commands;

/// <summary>
/// `exposure demo`: the main job on a fresh machine. Serves on the embedded store, crawls this machine's
/// loopback (127.0.0.1 only) on common ports through the real gRPC path, then prints how to query it.
/// </summary>
internal static class DemoCommand
{
    /// <summary>Popular service ports; the demo scans only 127.0.0.1, so this stays local and quick.</summary>
    public const string DemoPorts = "21,22,23,25,53,80,110,111,135,139,143,389,443,445,465,514,587,631,873,993,995,1080,1433,1521,1883,2049,2181,3000,3128,3306,3389,4222,5000,5432,5672,5900,5984,6379,6443,8000,8008,8080,8081,8086,8088,8443,8780,8888,9000,9090,9092,9200,9300,11211,11300,27017";

    public static Command Build()
    {
        var serve = new ServeOptionSet();
        var ports = new Option<string>("--ports", "-p") { Description = "Ports to crawl on 127.0.0.1", DefaultValueFactory = _ => DemoPorts };
        var exit = new Option<bool>("--exit") { Description = "Exit after the crawl instead of serving until Ctrl+C" };
        var command = new Command("demo", "Serve, crawl this machine's loopback (127.0.0.1) and show how to search the results") { ports, exit };
        serve.AddTo(command);

        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = serve.Build(parse, quiet: true);
            await using var host = await ServerHost.StartAsync(options, cancellationToken).ConfigureAwait(false);
            var key = options.ApiKeys[0];
            Console.WriteLine("ExposureIndex demo");
            Console.WriteLine($"  store    {options.Store}");
            Console.WriteLine($"  API      {host.ApiUrl}");
            Console.WriteLine($"  API key  {key}");
            Console.WriteLine($"  ingest   {host.GrpcUrl} (gRPC)");
            Console.WriteLine();
            Console.WriteLine("Crawling 127.0.0.1 (this machine only; loopback is allowed for the demo) ...");

            var crawl = new CrawlOptions
            {
                Targets = ["127.0.0.1"],
                Ports = parse.GetValue(ports)!,
                AllowLoopback = true,
                IndexerUrl = host.GrpcUrl,
                Concurrency = 64,
                ConnectTimeout = TimeSpan.FromSeconds(1),
                ReadTimeout = TimeSpan.FromSeconds(2),
                TargetDeadline = TimeSpan.FromSeconds(6),
                ScanId = "demo-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture),
            };
            await CrawlCommand.RunAsync(crawl, quiet: false, cancellationToken).ConfigureAwait(false);

            var found = await host.Store.SearchAsync(SearchRequest.CountOnly(QueryParser.Parse("ip:127.0.0.1").Root, FacetParser.Parse("port:50")), cancellationToken).ConfigureAwait(false);
            var open = found.Facets.TryGetValue("port", out var buckets) ? string.Join(", ", buckets.Select(b => b.Value).OrderBy(v => int.Parse(v, CultureInfo.InvariantCulture))) : string.Empty;
            Console.WriteLine();
            Console.WriteLine($"Indexed {found.Total} service(s) on 127.0.0.1{(open.Length > 0 ? $" (ports {open})" : string.Empty)}.");
            Console.WriteLine();
            Console.WriteLine("Try:");
            Console.WriteLine("  ./exposure host 127.0.0.1");
            Console.WriteLine("  ./exposure search 'ip:127.0.0.1 port:22,80' --facets product");
            Console.WriteLine("  ./exposure count 'net:127.0.0.0/8' --facets port:10,product");
            Console.WriteLine($"  curl '{new Uri(host.ApiUrl, "/shodan/host/search")}?key={key}&query=net:127.0.0.0/8&facets=port'");
            Console.WriteLine($"  /usr/bin/python3 -c \"import shodan; a=shodan.Shodan('{key}'); a.base_url='{host.ApiUrl.ToString().TrimEnd('/')}'; print(a.host('127.0.0.1')['ports'])\"");

            if (parse.GetValue(exit))
            {
                return 0;
            }

            Console.WriteLine();
            Console.WriteLine("Serving until Ctrl+C.");
            await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
