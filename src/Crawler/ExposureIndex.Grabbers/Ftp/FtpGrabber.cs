using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Ftp;

/// <summary>
/// FTP before login: greeting, FEAT and SYST, then QUIT. Fills Shodan's <c>ftp</c> section (features, and whether
/// AUTH TLS is offered; the TLS grabber does the handshake itself). Sends no USER/PASS, not even anonymous.
/// </summary>
internal sealed class FtpGrabber : IGrabber
{
    // Greeting -> product, as the servers announce themselves; NVD's vendor/product for the CPE.
    internal static readonly IReadOnlyList<ProductRule> Products =
    [
        new(@"\(vsFTPd (?<v>\d+(?:\.\d+)+)\)", "vsftpd", "beasts", "vsftpd"),
        new(@"\bvsFTPd\b", "vsftpd", "beasts", "vsftpd"),
        new(@"\bProFTPD (?<v>\d+(?:\.\d+)+[a-z]?(?:rc\d+)?)", "ProFTPD", "proftpd", "proftpd"),
        new(@"\bProFTPD\b", "ProFTPD", "proftpd", "proftpd"),
        new(@"\bPure-FTPd\b", "Pure-FTPd", "pureftpd", "pure-ftpd"),
        new(@"\bFileZilla Server(?: version)? v?(?<v>\d+(?:\.\d+)+(?: beta)?)", "FileZilla ftpd", "filezilla-project", "filezilla_server"),
        new(@"\bFileZilla Server\b", "FileZilla ftpd", "filezilla-project", "filezilla_server"),
        new(@"\bMicrosoft FTP Service\b", "Microsoft ftpd", "microsoft", "internet_information_services", "Windows"),
        new(@"\bServ-U FTP Server v?(?<v>\d+(?:\.\d+)+)", "Serv-U ftpd", "solarwinds", "serv-u", "Windows"),
        new(@"\bwu-(?<v>\d+(?:\.\d+)+(?:\(\d+\))?)", "WU-FTPD", "washington_university", "wu-ftpd"),
        new(@"\bPureFTPd\b|\bpure-ftpd\b", "Pure-FTPd", "pureftpd", "pure-ftpd"),
    ];

    public string Name => "ftp";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["ftp", "ftps"];

    public IReadOnlyList<int> Ports { get; } = [21, 2121];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
        => Conversation.GrabAsync(context, Name, new FtpParser(), Describe, cancellationToken);

    internal static void Describe(ServiceRecord record, FtpResult result)
    {
        var section = new FtpSection
        {
            Banner = string.Join('\n', result.Greeting),
            GreetingCode = result.GreetingCode,
            FeatSupported = result.FeatSupported,
            AuthTls = result.AuthTls,
            System = result.System ?? string.Empty,
        };
        foreach (var feature in result.Features)
        {
            var entry = new Contracts.V1.FtpFeature();
            entry.Parameters.AddRange(feature.Parameters);
            section.Features[feature.Name] = entry;
        }

        record.Ftp = section;
        record.Data = ByteString.CopyFrom(result.Banner);
        ProductRule.FirstMatch(Products, section.Banner)?.ApplyTo(record);
    }
}
