using System.CommandLine;
using ExposureIndex.Cli.Hosting;

namespace ExposureIndex.Cli.Commands;

internal static class ServeCommand
{
    public static Command Build()
    {
        var serve = new ServeOptionSet();
        var command = new Command("serve", "Run the Indexer (gRPC ingest) and the SearchApi (REST API) in one process");
        serve.AddTo(command);

        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = serve.Build(parse);
            await using var host = await ServerHost.StartAsync(options, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"store   {(options.Store.Backend == ExposureIndex.Storage.StoreBackend.Embedded ? options.Store.ToString() : host.Store.Kind + " " + new UriBuilder(options.Store.Url!) { UserName = string.Empty, Password = string.Empty }.Uri)}");
            Console.WriteLine($"api     {host.ApiUrl}   (key: {options.ApiKeys[0]})");
            Console.WriteLine($"ingest  {host.GrpcUrl}   (gRPC exposure.v1.Ingest/Publish, HTTP/2 only)");
            Console.WriteLine("Press Ctrl+C to stop.");
            await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
