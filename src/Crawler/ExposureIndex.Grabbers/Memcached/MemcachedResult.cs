namespace ExposureIndex.Grabbers.Memcached;

/// <summary>A memcached server's answers to "stats" and "version" (protocol.txt, "General-purpose statistics").</summary>
internal sealed record MemcachedResult
{
    /// <summary>The STAT lines in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Stats { get; init; } = [];

    /// <summary>The error line "stats" got instead (ERROR, CLIENT_ERROR ..., SERVER_ERROR ...), if any.</summary>
    public string? StatsError { get; init; }

    /// <summary>The "VERSION x" reply's argument, if it came.</summary>
    public string? VersionReply { get; init; }

    /// <summary>The replies exactly as received: the banner Shodan shows.</summary>
    public required byte[] Banner { get; init; }

    /// <summary>The version: the version command's answer, else STAT version.</summary>
    public string? Version => VersionReply ?? Stat("version");

    public string? Stat(string key) => Stats.Where(s => s.Key == key).Select(s => s.Value).FirstOrDefault();
}
