using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Pop3;

/// <summary>
/// POP3 before login: greeting, CAPA, QUIT. Records the capabilities (STLS, SASL mechanisms, IMPLEMENTATION) in
/// the <c>pop3</c> section; the TLS grabber negotiates STLS itself. Sends no USER, PASS or APOP.
/// </summary>
internal sealed class Pop3Grabber : IGrabber
{
    // Greeting or IMPLEMENTATION -> product; NVD's vendor/product for the CPE.
    internal static readonly IReadOnlyList<ProductRule> Products =
    [
        new(@"\bDovecot(?: (?<v>\d+(?:\.\d+)+))?(?: \((?<o>Debian|Ubuntu)\))? ready", "Dovecot", "dovecot", "dovecot"),
        new(@"\bDovecot\b", "Dovecot", "dovecot", "dovecot"),
        new(@"\bCyrus POP3(?: v?(?<v>\d+(?:\.\d+)+))?", "Cyrus pop3d", "cmu", "cyrus_imap_server"),
        new(@"\bQpopper \(version (?<v>\d+(?:\.\d+)+)\)", "Qpopper", "qualcomm", "qpopper"),
        new(@"\bUW POP3 server (?<v>[\w.]+)", "UW POP3", "university_of_washington", "pop3d"),
        new(@"^Hello there\.", "Courier pop3d", "courier-mta", "courier"),
        new(@"\bMicrosoft Exchange\b.*\bPOP3\b", "Microsoft Exchange pop3d", "microsoft", "exchange_server", "Windows"),
    ];

    public string Name => "pop3";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["pop3", "pop3s"];

    public IReadOnlyList<int> Ports { get; } = [110];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
        => Conversation.GrabAsync(context, Name, new Pop3Parser(), Describe, cancellationToken);

    internal static void Describe(ServiceRecord record, Pop3Result result)
    {
        var section = new Pop3Section
        {
            Banner = result.Greeting,
            GreetingOk = result.GreetingOk,
            Apop = result.Apop,
            Starttls = result.StartTls,
            Implementation = result.Implementation ?? string.Empty,
        };
        section.Capabilities.AddRange(result.Capabilities);
        section.SaslMechanisms.AddRange(result.SaslMechanisms);
        record.Pop3 = section;
        record.Data = ByteString.CopyFrom(result.Banner);
        (ProductRule.FirstMatch(Products, result.Greeting) ?? ProductRule.FirstMatch(Products, result.Implementation))?.ApplyTo(record);
    }
}
