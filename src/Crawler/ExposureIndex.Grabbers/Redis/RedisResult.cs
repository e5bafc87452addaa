namespace ExposureIndex.Grabbers.Redis;

/// <summary>One "# Name" block of the INFO reply, its "key:value" lines in order.</summary>
internal sealed record RedisInfoSection(string Name, IReadOnlyList<KeyValuePair<string, string>> Fields);

/// <summary>A Redis server's answer to INFO: the info text, or the error it refused with.</summary>
internal sealed record RedisResult
{
    /// <summary>The error reply (without '-'), e.g. "NOAUTH Authentication required."; null when INFO answered.</summary>
    public string? Error { get; init; }

    public IReadOnlyList<RedisInfoSection> Sections { get; init; } = [];

    /// <summary>The info text (the bulk string's bytes), or the error line: the banner Shodan shows.</summary>
    public required byte[] Banner { get; init; }

    /// <summary>
    /// INFO needs AUTH: "-NOAUTH Authentication required." (Redis 2.8+ and 6 ACLs), "-ERR operation not permitted"
    /// (older), or "-WRONGPASS"-style refusals.
    /// </summary>
    public bool AuthRequired => Error is { } e && (e.StartsWith("NOAUTH", StringComparison.OrdinalIgnoreCase)
        || e.Contains("Authentication required", StringComparison.OrdinalIgnoreCase)
        || e.Contains("operation not permitted", StringComparison.OrdinalIgnoreCase)
        || e.StartsWith("NOPERM", StringComparison.OrdinalIgnoreCase));

    /// <summary>"-DENIED Redis is running in protected mode ...": no password and a client from outside loopback.</summary>
    public bool ProtectedMode => Error is { } e && e.StartsWith("DENIED", StringComparison.OrdinalIgnoreCase);

    public string? Value(string section, string key)
        => Sections.Where(s => string.Equals(s.Name, section, StringComparison.OrdinalIgnoreCase))
            .SelectMany(s => s.Fields)
            .Where(f => f.Key == key)
            .Select(f => f.Value)
            .FirstOrDefault();
}
