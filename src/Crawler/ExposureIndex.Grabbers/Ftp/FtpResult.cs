namespace ExposureIndex.Grabbers.Ftp;

/// <summary>One FEAT line (RFC 2389 §3.2): the feature name (upper-case) and its parameters.</summary>
internal sealed record FtpFeature(string Name, IReadOnlyList<string> Parameters);

/// <summary>What an FTP server says before login: greeting, FEAT and SYST replies.</summary>
internal sealed record FtpResult
{
    public required int GreetingCode { get; init; }

    /// <summary>The greeting's text lines, reply codes removed.</summary>
    public required IReadOnlyList<string> Greeting { get; init; }

    /// <summary>True when FEAT was answered with 211; false when refused or not asked (greeting was not 220).</summary>
    public bool FeatSupported { get; init; }

    public IReadOnlyList<FtpFeature> Features { get; init; } = [];

    public int? SystCode { get; init; }

    /// <summary>The SYST reply text when it was 215 ("UNIX Type: L8").</summary>
    public string? System { get; init; }

    /// <summary>The greeting, FEAT and SYST replies exactly as received: the banner Shodan shows.</summary>
    public required byte[] Banner { get; init; }

    /// <summary>FEAT lists AUTH with TLS or SSL (RFC 4217 §6): the server can be upgraded to TLS.</summary>
    public bool AuthTls => Features.Any(f => f.Name == "AUTH" && f.Parameters.Any(p => p.StartsWith("TLS", StringComparison.OrdinalIgnoreCase) || p.StartsWith("SSL", StringComparison.OrdinalIgnoreCase)));
}
