using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Smtp;

/// <summary>
/// SMTP without mail and without AUTH: greeting, EHLO (HELO as a fallback), QUIT. Records the extensions (SIZE,
/// STARTTLS, AUTH mechanisms ...) in the <c>smtp</c> section; the TLS grabber negotiates STARTTLS itself.
/// </summary>
internal sealed class SmtpGrabber : IGrabber
{
    // Greeting -> product, as the servers announce themselves; NVD's vendor/product for the CPE.
    internal static readonly IReadOnlyList<ProductRule> Products =
    [
        new(@"\bESMTP Postfix(?: (?<v>\d+(?:\.\d+)+))?(?: \((?<o>Debian|Ubuntu)\b[^)]*\))?", "Postfix", "postfix", "postfix"),
        new(@"\bPostfix\b", "Postfix", "postfix", "postfix"),
        new(@"\bExim (?<v>\d+(?:\.\d+)+(?:_\d+)?)", "Exim", "exim", "exim"),
        new(@"\bSendmail (?<v>\d+(?:\.\d+)+)(?:/[\d.]+)?", "Sendmail", "sendmail", "sendmail"),
        new(@"\bOpenSMTPD\b", "OpenSMTPD", "openbsd", "opensmtpd"),
        new(@"\bMicrosoft ESMTP MAIL Service(?:, Version: (?<v>\d+(?:\.\d+)+))?", "Microsoft ESMTP", "microsoft", "exchange_server", "Windows"),
        new(@"\bHaraka(?:/| )(?<v>\d+(?:\.\d+)+)", "Haraka", "haraka_project", "haraka"),
        new(@"\bhMailServer\b", "hMailServer", "hmailserver", "hmailserver", "Windows"),
        new(@"\bMailEnable\b", "MailEnable", "mailenable", "mailenable", "Windows"),
    ];

    public string Name => "smtp";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["smtp", "smtps", "submission"];

    public IReadOnlyList<int> Ports { get; } = [25, 587, 2525];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
        => Conversation.GrabAsync(context, Name, new SmtpParser(), Describe, cancellationToken);

    internal static void Describe(ServiceRecord record, SmtpResult result)
    {
        var section = new SmtpSection
        {
            Banner = string.Join('\n', result.Greeting),
            GreetingCode = result.GreetingCode,
            Hostname = result.Hostname ?? string.Empty,
            Esmtp = result.Esmtp,
            Starttls = result.StartTls,
            MaxSize = result.MaxSize,
        };
        section.Extensions.AddRange(result.Extensions);
        section.AuthMechanisms.AddRange(result.AuthMechanisms);
        record.Smtp = section;
        record.Data = ByteString.CopyFrom(result.Banner);
        ProductRule.FirstMatch(Products, section.Banner)?.ApplyTo(record);
    }
}
