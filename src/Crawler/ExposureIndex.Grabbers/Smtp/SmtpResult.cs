namespace ExposureIndex.Grabbers.Smtp;

/// <summary>What an SMTP server says to a client that only greets it: greeting and EHLO (or HELO) reply.</summary>
internal sealed record SmtpResult
{
    public required int GreetingCode { get; init; }

    /// <summary>The greeting's text lines, reply codes removed.</summary>
    public required IReadOnlyList<string> Greeting { get; init; }

    /// <summary>True when EHLO was answered with 250 (RFC 5321 §4.1.1.1); false for HELO-only servers.</summary>
    public bool Esmtp { get; init; }

    /// <summary>The first word of the EHLO/HELO reply: the name the server calls itself.</summary>
    public string? Hostname { get; init; }

    /// <summary>EHLO keywords with their parameters, as sent ("SIZE 10240000", "AUTH PLAIN LOGIN").</summary>
    public IReadOnlyList<string> Extensions { get; init; } = [];

    /// <summary>The greeting, EHLO and HELO replies exactly as received: the banner Shodan shows.</summary>
    public required byte[] Banner { get; init; }

    public bool StartTls => Extensions.Any(e => Keyword(e) == "STARTTLS");

    /// <summary>AUTH mechanisms (RFC 4954 §3), also from the pre-standard "AUTH=" form some servers still send.</summary>
    public IReadOnlyList<string> AuthMechanisms => Extensions
        .Where(e => Keyword(e) is "AUTH" || e.StartsWith("AUTH=", StringComparison.OrdinalIgnoreCase))
        .SelectMany(e => e[5..].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        .Select(m => m.ToUpperInvariant())
        .Distinct(StringComparer.Ordinal)
        .ToList();

    /// <summary>The SIZE limit (RFC 1870 §4); 0 when absent or "no fixed limit".</summary>
    public ulong MaxSize => Extensions.Where(e => Keyword(e) == "SIZE").Select(e => ulong.TryParse(e.AsSpan(4).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0).FirstOrDefault();

    private static string Keyword(string extension)
    {
        var end = extension.IndexOfAny([' ', '=']);
        return (end < 0 ? extension : extension[..end]).ToUpperInvariant();
    }
}
