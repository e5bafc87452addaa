namespace ExposureIndex.Grabbers.Imap;

/// <summary>What an IMAP server says before login: greeting, CAPABILITY and (when offered) ID.</summary>
internal sealed record ImapResult
{
    /// <summary>OK, PREAUTH or BYE (RFC 3501 §7.1), upper-case.</summary>
    public required string GreetingStatus { get; init; }

    /// <summary>The greeting's human-readable text, after the status and any [response code].</summary>
    public required string Greeting { get; init; }

    /// <summary>Capabilities from the greeting's [CAPABILITY ...] response code (RFC 3501 §7.1), if it had one.</summary>
    public IReadOnlyList<string> GreetingCapabilities { get; init; } = [];

    /// <summary>The CAPABILITY command's answer (RFC 3501 §7.2.1); empty when it was not answered.</summary>
    public IReadOnlyList<string> CommandCapabilities { get; init; } = [];

    /// <summary>The server's ID fields (RFC 2971 §3.2), in the order sent; empty when ID was not offered or answered NIL.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Id { get; init; } = [];

    /// <summary>The greeting, CAPABILITY and ID responses exactly as received: the banner Shodan shows.</summary>
    public required byte[] Banner { get; init; }

    /// <summary>The capability list: the command's answer, else the greeting's.</summary>
    public IReadOnlyList<string> Capabilities => CommandCapabilities.Count > 0 ? CommandCapabilities : GreetingCapabilities;

    public bool StartTls => Capabilities.Contains("STARTTLS", StringComparer.OrdinalIgnoreCase);

    public bool LoginDisabled => Capabilities.Contains("LOGINDISABLED", StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<string> AuthMechanisms => Capabilities
        .Where(c => c.StartsWith("AUTH=", StringComparison.OrdinalIgnoreCase) && c.Length > 5)
        .Select(c => c[5..].ToUpperInvariant())
        .Distinct(StringComparer.Ordinal)
        .ToList();

    public string? IdValue(string key) => Id.Where(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)).Select(p => p.Value).FirstOrDefault();
}
