using System.CommandLine;
using ExposureIndex.Cli.Hosting;

namespace ExposureIndex.Cli.Commands;

internal static class ServeCommand
{
    public static Command Build()
    {
        var data = CommonOptions.Data();
        var store = CommonOptions.Store();
        var http = CommonOptions.Http();
        var grpc = CommonOptions.Grpc();
        var apiKey = CommonOptions.ApiKey();
        var geoIp = CommonOptions.GeoIp();
        var asn = CommonOptions.Asn();
        var command = new Command("serve", "Run the Indexer (gRPC ingest) and the SearchApi (REST API) in one process")
        {
            data, store, http, grpc, apiKey, geoIp, asn,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = CommonOptions.BuildServe(parse, data, store, http, grpc, apiKey, geoIp, asn);
            await using var host = await ServerHost.StartAsync(options, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"store   {options.Store}");
            Console.WriteLine($"api     {host.ApiUrl}   (key: {options.ApiKeys[0]})");
            Console.WriteLine($"ingest  {host.GrpcUrl}   (gRPC exposure.v1.Ingest/Publish, HTTP/2 only)");
            Console.WriteLine("Press Ctrl+C to stop.");
            await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
