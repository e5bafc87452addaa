using System.Text;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Ssh;

/// <summary>
/// SSH: reads the identification string (tolerating lines before it), sends ours, reads the server's KEXINIT
/// (HASSH and the algorithm lists), then starts a key exchange just far enough for the server to send its host
/// key (type, MD5 and SHA-256 fingerprints). Hangs up before NEWKEYS: no session keys, no authentication.
/// Fills Shodan's <c>ssh</c> section; <c>data</c> is the banner plus key and algorithm lists as Shodan shows them.
/// </summary>
/// <param name="hostKeyPreference">Host key algorithms to ask for, most wanted first (default: ed25519, ECDSA, RSA).</param>
/// <param name="kexPreference">Key exchange methods to try, from <see cref="SshKeyExchange.SupportedKex"/> (default: all, in that order).</param>
internal sealed class SshGrabber(IReadOnlyList<string>? hostKeyPreference, IReadOnlyList<string>? kexPreference = null) : IGrabber
{
    private readonly IReadOnlyList<string> _hostKeyPreference = hostKeyPreference ?? SshKeyExchange.DefaultHostKeyPreference;
    private readonly IReadOnlyList<string> _kexPreference = kexPreference ?? SshKeyExchange.SupportedKex;

    public SshGrabber()
        : this(null)
    {
    }

    public string Name => "ssh";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["ssh"];

    public IReadOnlyList<int> Ports { get; } = [22, 2222];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var record = new ServiceRecord { Module = "ssh" };
        return GrabGuard.RunAsync(context, "the SSH grab", record, async deadline =>
        {
            var parser = new SshParser(expectKexReply: true);
            string? note = null;
            var connection = await context.Network.ConnectAsync(context.Target, context.Limits, deadline).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                // RFC 4253 §4.2: both sides send their identification at once; sending ours first also wakes servers that wait.
                await connection.WriteAsync(SshKeyExchange.ClientIdentification, cancellationToken).ConfigureAwait(false);
                var answered = false;
                ParsedRead read;
                try
                {
                    read = await connection.ReadParsedAsync(parser, int.MaxValue, cancellationToken, async () =>
                    {
                        if (answered || parser.KexInit is not { } kexInit)
                        {
                            return true;
                        }

                        answered = true;
                        if (SshKeyExchange.ChooseKex(kexInit, _kexPreference) is not { } kex)
                        {
                            note = $"no key exchange method in common (server offers {string.Join(',', kexInit.KexAlgorithms)}); host key not fetched";
                            return false;
                        }

                        var ours = SshKeyExchange.BuildKexInit(kexInit, kex, _hostKeyPreference);
                        await connection.WriteAsync(ours.Concat(SshKeyExchange.BuildKexInitMessage(kex)).ToArray(), cancellationToken).ConfigureAwait(false);
                        return true;
                    }).ConfigureAwait(false);
                }
                catch (GrabLimitException ex) when (parser.Banner is not null)
                {
                    // A stall after the banner: keep what arrived, report the timeout.
                    parser.End();
                    Describe(record, parser.Result!);
                    return GrabResult.Failed(ex.Outcome, ex.Message + " (after the SSH banner)", record);
                }

                // Stopped without a common key exchange: what the server said so far is the answer.
                var status = read.Status == ParseStatus.NeedMore ? parser.End() : read.Status;
                if (status != ParseStatus.Complete)
                {
                    var error = parser.Error ?? "the SSH exchange could not be parsed";
                    if (parser.Partial is { } partial)
                    {
                        Describe(record, partial);
                    }

                    return GrabResult.Failed(connection.BytesRead == 0 ? GrabOutcome.Closed : GrabOutcome.ProtocolError, error, record);
                }
            }

            var result = parser.Result!;
            Describe(record, result);
            if (result.Disconnect is not null)
            {
                note = "the server disconnected: " + result.Disconnect;
            }
            else if (result.HostKey is null && note is null && parser.SpeaksSsh2)
            {
                note = "the server closed the connection before sending its host key";
            }

            return GrabResult.Success(record) with { Error = note };
        }, cancellationToken);
    }

    /// <summary>Fills the record from a parse: section, product, data.</summary>
    internal static void Describe(ServiceRecord record, SshResult result)
    {
        var section = new SshSection { Banner = result.Banner };
        record.Ssh = section;
        if (result.KexInit is { } kex)
        {
            section.Hassh = kex.HasshServer;
            section.Kex = new SshKex();
            section.Kex.KexAlgorithms.AddRange(kex.KexAlgorithms);
            section.Kex.ServerHostKeyAlgorithms.AddRange(kex.ServerHostKeyAlgorithms);
            section.Kex.EncryptionAlgorithms.AddRange(kex.EncryptionServerToClient);
            section.Kex.MacAlgorithms.AddRange(kex.MacServerToClient);
            section.Kex.CompressionAlgorithms.AddRange(kex.CompressionServerToClient);
            section.Kex.Languages.AddRange(kex.LanguagesServerToClient);
        }

        if (result.HostKey is { } key)
        {
            section.Key = ByteString.CopyFrom(key);
            section.Type = result.HostKeyType ?? string.Empty;
            section.Fingerprint = result.FingerprintMd5!;
            section.FingerprintSha256 = result.FingerprintSha256!;
        }

        if (SshProducts.TryParse(result.Banner, out var product))
        {
            product.ApplyTo(record);
        }

        record.Data = ByteString.CopyFrom(Encoding.UTF8.GetBytes(DataText(result)));
    }

    /// <summary>The banner text as Shodan shows SSH: the identification, the host key, then each algorithm list.</summary>
    internal static string DataText(SshResult result)
    {
        var sb = new StringBuilder(1024);
        foreach (var line in result.PreBannerLines)
        {
            sb.Append(line).Append('\n');
        }

        sb.Append(result.Banner).Append('\n');
        if (result.HostKey is { } key)
        {
            sb.Append("Key type: ").Append(result.HostKeyType).Append('\n');
            sb.Append("Key: ").Append(Convert.ToBase64String(key)).Append('\n');
            sb.Append("Fingerprint: ").Append(result.FingerprintMd5).Append('\n');
        }

        if (result.KexInit is { } kex)
        {
            sb.Append('\n');
            AppendList(sb, "Kex Algorithms", kex.KexAlgorithms);
            AppendList(sb, "Server Host Key Algorithms", kex.ServerHostKeyAlgorithms);
            AppendList(sb, "Encryption Algorithms", kex.EncryptionServerToClient);
            AppendList(sb, "MAC Algorithms", kex.MacServerToClient);
            AppendList(sb, "Compression Algorithms", kex.CompressionServerToClient);
        }

        return sb.ToString();
    }

    private static void AppendList(StringBuilder sb, string title, IReadOnlyList<string> items)
    {
        sb.Append(title).Append(":\n");
        foreach (var item in items)
        {
            sb.Append('\t').Append(item).Append('\n');
        }

        sb.Append('\n');
    }
}
