namespace ExposureIndex.Grabbers.Http;

/// <summary>One parsed HTTP/1.x response.</summary>
/// <param name="Version">The protocol token of the status line ("HTTP/1.1").</param>
/// <param name="Status">The status code.</param>
/// <param name="Reason">The reason phrase (may be empty).</param>
/// <param name="Headers">Header fields in arrival order, names as sent.</param>
/// <param name="HeaderBlock">The status line and header block exactly as received, final empty line included: Shodan's <c>data</c> for HTTP.</param>
/// <param name="Body">The body after de-chunking, at most the parser's body cap.</param>
/// <param name="BodyTruncated">True when the body was longer than the cap.</param>
/// <param name="BodyIncomplete">True when the peer closed before the announced length or the last chunk.</param>
internal sealed record HttpResult(
    string Version,
    int Status,
    string Reason,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[] HeaderBlock,
    byte[] Body,
    bool BodyTruncated,
    bool BodyIncomplete)
{
    /// <summary>The first value of header <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? Header(string name)
    {
        foreach (var (key, value) in Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>A stable text form for comparing results (records holding arrays lack value equality).</summary>
    public string Canonical()
        => $"{Version}|{Status}|{Reason}|{string.Join(";", Headers.Select(h => h.Key + "=" + h.Value))}|{Convert.ToHexString(HeaderBlock)}|{Convert.ToHexString(Body)}|{BodyTruncated}|{BodyIncomplete}";
}
