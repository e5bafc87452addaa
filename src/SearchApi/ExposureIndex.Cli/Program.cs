using ExposureIndex.Cli;

return await CliApp.RunAsync(args).ConfigureAwait(false);
