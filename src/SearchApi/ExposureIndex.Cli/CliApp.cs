using System.CommandLine;
using ExposureIndex.Cli.Commands;

namespace ExposureIndex.Cli;

/// <summary>The `exposure` command tree. Errors are one line on stderr and a non-zero exit code.</summary>
internal static class CliApp
{
    public static RootCommand Build()
    {
        var root = new RootCommand("ExposureIndex: a self-hosted internet-exposure search engine (crawl, index, search)");
        root.Subcommands.Add(DemoCommand.Build());
        root.Subcommands.Add(ServeCommand.Build());
        root.Subcommands.Add(CrawlCommand.Build());
        root.Subcommands.Add(CrawlerServiceCommand.Build());
        root.Subcommands.Add(QueryCommands.Search());
        root.Subcommands.Add(QueryCommands.Count());
        root.Subcommands.Add(QueryCommands.Host());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var root = Build();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var command = string.Join(' ', parse.CommandResult.Command.Parents.OfType<Command>().Reverse().Select(c => c.Name).Append(parse.CommandResult.Command.Name).Where(n => n.Length > 0 && n != root.Name));
            // The most specific error first: an unknown word says more than "required command was not provided".
            var error = parse.Errors.FirstOrDefault(e => e.Message.Contains("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
            Console.Error.WriteLine($"exposure: {error.Message} (see 'exposure {command} --help')".Replace("exposure  (", "exposure (", StringComparison.Ordinal));
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            cancel.Cancel();
        });
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, cancel.Token).ConfigureAwait(false);
        }
        catch (CliException ex)
        {
            Console.Error.WriteLine("exposure: " + ex.Message);
            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return 130;
        }
        catch (IOException ex) when (ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine("exposure: " + ex.Message + " (choose another --http/--grpc port)");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
