namespace ExposureIndex.Grabbers.Pop3;

/// <summary>What a POP3 server says before login: its greeting and CAPA list.</summary>
internal sealed record Pop3Result
{
    /// <summary>The greeting was "+OK" (RFC 1939 §4); "-ERR" means the server turned us away.</summary>
    public required bool GreetingOk { get; init; }

    /// <summary>The greeting text after "+OK" / "-ERR".</summary>
    public required string Greeting { get; init; }

    /// <summary>CAPA was answered with "+OK" (RFC 2449 §5); false when refused or not asked.</summary>
    public bool CapaSupported { get; init; }

    /// <summary>CAPA lines as sent, dot-unstuffed ("TOP", "SASL PLAIN LOGIN", "STLS").</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];

    /// <summary>The greeting and CAPA reply exactly as received: the banner Shodan shows.</summary>
    public required byte[] Banner { get; init; }

    /// <summary>An APOP timestamp "&lt;...@...&gt;" in the greeting (RFC 1939 §7) means APOP is offered.</summary>
    public bool Apop
    {
        get
        {
            var open = Greeting.IndexOf('<', StringComparison.Ordinal);
            var close = open < 0 ? -1 : Greeting.IndexOf('>', open);
            return close > open + 1 && Greeting.AsSpan(open, close - open).Contains('@');
        }
    }

    /// <summary>STLS (RFC 2595 §4): the server can be upgraded to TLS.</summary>
    public bool StartTls => Capabilities.Any(c => Keyword(c) == "STLS");

    /// <summary>The SASL capability's mechanisms (RFC 2449 §6.3).</summary>
    public IReadOnlyList<string> SaslMechanisms => Capabilities
        .Where(c => Keyword(c) == "SASL")
        .SelectMany(c => c[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        .ToList();

    /// <summary>The IMPLEMENTATION capability's argument (RFC 2449 §6.9), which often names the server.</summary>
    public string? Implementation => Capabilities.Where(c => Keyword(c) == "IMPLEMENTATION").Select(c => c[14..].Trim()).FirstOrDefault(v => v.Length > 0);

    private static string Keyword(string capability)
    {
        var space = capability.IndexOf(' ', StringComparison.Ordinal);
        return (space < 0 ? capability : capability[..space]).ToUpperInvariant();
    }
}
