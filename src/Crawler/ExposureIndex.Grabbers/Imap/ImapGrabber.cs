using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Imap;

/// <summary>
/// IMAP before login: greeting, CAPABILITY, ID (when offered), LOGOUT. Records capabilities (STARTTLS, AUTH=...,
/// LOGINDISABLED) and the ID fields in the <c>imap</c> section; the TLS grabber negotiates STARTTLS itself.
/// </summary>
internal sealed class ImapGrabber : IGrabber
{
    // Greeting -> product; NVD's vendor/product for the CPE.
    internal static readonly IReadOnlyList<ProductRule> Products =
    [
        new(@"\bDovecot(?: (?<v>\d+(?:\.\d+)+))?(?: \((?<o>Debian|Ubuntu)\))? ready", "Dovecot", "dovecot", "dovecot"),
        new(@"\bDovecot\b", "Dovecot", "dovecot", "dovecot"),
        new(@"\bCourier-IMAP\b", "Courier imapd", "courier-mta", "courier-imap"),
        new(@"\bCyrus IMAP4?(?: v?(?<v>\d+(?:\.\d+)+))?", "Cyrus imapd", "cmu", "cyrus_imap_server"),
        new(@"\bMicrosoft Exchange Server\b.*?\bversion (?<v>\d+(?:\.\d+)+)", "Microsoft Exchange imapd", "microsoft", "exchange_server", "Windows"),
        new(@"\bMicrosoft Exchange\b.*\bIMAP4\b", "Microsoft Exchange imapd", "microsoft", "exchange_server", "Windows"),
        new(@"\bZimbra\b", "Zimbra imapd", "zimbra", "collaboration_server"),
    ];

    // ID "name" -> product and CPE, for names we know; other names are reported as they are.
    private static readonly Dictionary<string, (string Product, string Vendor, string CpeProduct)> IdNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Dovecot"] = ("Dovecot", "dovecot", "dovecot"),
        ["Cyrus IMAPD"] = ("Cyrus imapd", "cmu", "cyrus_imap_server"),
        ["Zimbra"] = ("Zimbra imapd", "zimbra", "collaboration_server"),
    };

    public string Name => "imap";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["imap", "imaps"];

    public IReadOnlyList<int> Ports { get; } = [143];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
        => Conversation.GrabAsync(context, Name, new ImapParser(), Describe, cancellationToken);

    internal static void Describe(ServiceRecord record, ImapResult result)
    {
        var section = new ImapSection
        {
            Banner = result.Greeting,
            GreetingStatus = result.GreetingStatus,
            Starttls = result.StartTls,
            LoginDisabled = result.LoginDisabled,
        };
        section.Capabilities.AddRange(result.Capabilities);
        section.AuthMechanisms.AddRange(result.AuthMechanisms);
        foreach (var (key, value) in result.Id)
        {
            section.Id[key.ToLowerInvariant()] = value;
        }

        record.Imap = section;
        record.Data = ByteString.CopyFrom(result.Banner);
        Identify(result)?.ApplyTo(record);
    }

    /// <summary>The greeting names the product (and OS); ID, when answered, may add the exact version.</summary>
    internal static ProductMatch? Identify(ImapResult result)
    {
        var fromGreeting = ProductRule.FirstMatch(Products, result.Greeting);
        if (result.IdValue("name") is not { Length: > 0 } idName)
        {
            return fromGreeting;
        }

        var (product, vendor, cpeProduct) = IdNames.TryGetValue(idName, out var known) ? known : (idName, idName, idName);
        if (fromGreeting is not null && fromGreeting.Product != product)
        {
            return fromGreeting;
        }

        var version = result.IdValue("version") is { Length: > 0 } v ? v : fromGreeting?.Version;
        return new ProductMatch(product, version, fromGreeting?.Info, fromGreeting?.Os ?? OsFromId(result.IdValue("os")), Cpe.Application(vendor, cpeProduct, version));
    }

    private static string? OsFromId(string? os) => string.IsNullOrWhiteSpace(os) ? null : os.Trim();
}
