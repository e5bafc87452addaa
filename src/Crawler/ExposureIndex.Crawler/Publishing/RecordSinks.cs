using ExposureIndex.Crawler.Options;

namespace ExposureIndex.Crawler.Publishing;

/// <summary>Builds the sink the options ask for: an NDJSON file (or stdout) or the Indexer.</summary>
public static class RecordSinks
{
    /// <summary>
    /// Opens <see cref="CrawlOptions.OutputPath"/> as NDJSON, or the Publish stream to
    /// <see cref="CrawlOptions.IndexerUrl"/>. Validate the options first; this only checks that exactly one is set.
    /// </summary>
    public static IRecordSink Open(CrawlOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (options.OutputPath, options.IndexerUrl) switch
        {
            ({ } path, null) => NdjsonFileSink.Open(path),
            (null, { } url) => IndexerSink.Open(new IndexerSinkOptions(url, options.Producer ?? DefaultProducer(), options.MaxInFlightBatches)),
            _ => throw new CrawlOptionsException([new OptionError("OutputPath/IndexerUrl", "give exactly one of an output file and an indexer URL")]),
        };
    }

    private static string DefaultProducer() => $"crawler/{Environment.MachineName.ToLowerInvariant()}";
}
