using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Rdp;

/// <summary>
/// RDP: an X.224 Connection Request carrying RDP_NEG_REQ (MS-RDPBCGR §2.2.1.1) offering TLS and CredSSP, as
/// mstsc does, and the server's choice or refusal. Nothing further: no MCS, no TLS handshake, no CredSSP.
/// When the server negotiated, a second request also offers RDSTLS: Windows simply answers it, while xrdp
/// hangs up with an MCS Disconnect Provider Ultimatum (nmap names xrdp by the same reply) - the only way to tell
/// the product without going further into the connection.
/// </summary>
internal sealed class RdpGrabber : IGrabber
{
    public const uint ProtocolSsl = 0x01;
    public const uint ProtocolHybrid = 0x02;
    public const uint ProtocolRdstls = 0x04;
    public const uint ProtocolHybridEx = 0x08;

    /// <summary>What we offer first: TLS, CredSSP and CredSSP with Early User Authorization (mstsc's usual set).</summary>
    public const uint Requested = ProtocolSsl | ProtocolHybrid | ProtocolHybridEx;

    public string Name => "rdp";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["ms-wbt-server", "rdp"];

    public IReadOnlyList<int> Ports { get; } = [3389];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var record = new ServiceRecord { Module = Name, Rdp = new RdpSection() };
        return GrabGuard.RunAsync(context, "the RDP grab", record, async deadline =>
        {
            var (first, read, error) = await RequestAsync(context, Requested, deadline).ConfigureAwait(false);
            if (first is null)
            {
                return read.ToFailure(record, error!);
            }

            RdpResult? probe = null;
            Describe(record, first, null);
            if (first is { Kind: RdpReplyKind.ConnectionConfirm, NegotiationType: 2 or 3 })
            {
                try
                {
                    (probe, _, _) = await RequestAsync(context, Requested | ProtocolRdstls, deadline).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is GrabLimitException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    // The first answer stands; the product simply stays unnamed.
                }
            }

            Describe(record, first, probe);
            return first.Kind == RdpReplyKind.ConnectionConfirm
                ? GrabResult.Success(record)
                : GrabResult.Failed(GrabOutcome.ProtocolError, first.Kind == RdpReplyKind.DisconnectUltimatum ? "the server hung up (MCS Disconnect Provider Ultimatum) instead of confirming the connection" : $"X.224 TPDU 0x{first.TpduCode:x2} instead of a Connection Confirm", record);
        }, cancellationToken);
    }

    private static async ValueTask<(RdpResult? Result, ParsedRead Read, string? Error)> RequestAsync(GrabContext context, uint protocols, CancellationToken deadline)
    {
        await using var connection = await context.ConnectAsync(deadline).ConfigureAwait(false);
        await connection.WriteAsync(BuildConnectionRequest(protocols), deadline).ConfigureAwait(false);
        var parser = new RdpParser();
        var read = await connection.ReadParsedAsync(parser, RdpParser.MaxPacketBytes, deadline).ConfigureAwait(false);
        return (read.Status == ParseStatus.Complete ? parser.Result : null, read, parser.Error);
    }

    internal static void Describe(ServiceRecord record, RdpResult reply, RdpResult? rdstlsProbe)
    {
        var section = record.Rdp = new RdpSection();
        section.RequestedProtocols.AddRange(ProtocolNames(Requested));
        var data = new StringBuilder("Remote Desktop Protocol\n");
        if (reply.Kind == RdpReplyKind.ConnectionConfirm)
        {
            section.Negotiation = reply.NegotiationType is 2 or 3;
            if (reply.NegotiationType == 2)
            {
                section.SelectedProtocol = SelectedName(reply.SelectedProtocol);
                section.Flags.AddRange(FlagNames(reply.Flags));
                data.Append("Selected protocol: ").Append(section.SelectedProtocol).Append('\n');
                if (section.Flags.Count > 0)
                {
                    data.Append("Flags: ").Append(string.Join(", ", section.Flags)).Append('\n');
                }
            }
            else if (reply.NegotiationType == 3)
            {
                section.FailureCode = (int)reply.FailureCode;
                section.Failure = FailureName(reply.FailureCode);
                data.Append("Negotiation failure: ").Append(section.Failure).Append('\n');
            }
            else
            {
                // A Connection Confirm without negotiation: the server only knows Standard RDP Security (pre-5.2).
                section.SelectedProtocol = "RDP";
                data.Append("Selected protocol: RDP (no negotiation)\n");
            }
        }
        else
        {
            data.Append(reply.Kind == RdpReplyKind.DisconnectUltimatum ? "Disconnected (MCS Disconnect Provider Ultimatum)\n" : string.Create(CultureInfo.InvariantCulture, $"X.224 TPDU 0x{reply.TpduCode:x2}\n"));
        }

        if (reply.Kind == RdpReplyKind.DisconnectUltimatum || rdstlsProbe is { Kind: RdpReplyKind.DisconnectUltimatum })
        {
            new ProductMatch("xrdp", null, null, null, Cpe.Application("neutrinolabs", "xrdp", null)).ApplyTo(record);
        }

        record.Data = ByteString.CopyFromUtf8(data.ToString());
    }

    /// <summary>
    /// TPKT (RFC 1006) + X.224 Connection Request (X.224 §13.3: LI, code 0xE0, DST-REF 0, SRC-REF 0, class 0) +
    /// RDP_NEG_REQ (type 1, flags 0, length 8, requestedProtocols). No routing token or cookie: we are nobody.
    /// </summary>
    internal static byte[] BuildConnectionRequest(uint protocols)
    {
        var packet = new byte[19];
        packet[0] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 19);
        packet[4] = 14;
        packet[5] = 0xE0;
        packet[11] = 1;
        packet[13] = 8;
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(15), protocols);
        return packet;
    }

    internal static IEnumerable<string> ProtocolNames(uint protocols)
    {
        if ((protocols & ProtocolSsl) != 0)
        {
            yield return "SSL";
        }

        if ((protocols & ProtocolHybrid) != 0)
        {
            yield return "HYBRID";
        }

        if ((protocols & ProtocolRdstls) != 0)
        {
            yield return "RDSTLS";
        }

        if ((protocols & ProtocolHybridEx) != 0)
        {
            yield return "HYBRID_EX";
        }
    }

    /// <summary>selectedProtocol (MS-RDPBCGR §2.2.1.2.1): 0 means Standard RDP Security.</summary>
    internal static string SelectedName(uint protocol) => protocol switch
    {
        0 => "RDP",
        0x01 => "SSL",
        0x02 => "HYBRID",
        0x04 => "RDSTLS",
        0x08 => "HYBRID_EX",
        0x10 => "RDSAAD",
        _ => "0x" + protocol.ToString("x8", CultureInfo.InvariantCulture),
    };

    /// <summary>RDP_NEG_RSP flags (MS-RDPBCGR §2.2.1.2.1).</summary>
    internal static IEnumerable<string> FlagNames(int flags)
    {
        string[] names = ["EXTENDED_CLIENT_DATA_SUPPORTED", "DYNVC_GFX_PROTOCOL_SUPPORTED", "NEGRSP_FLAG_RESERVED", "RESTRICTED_ADMIN_MODE_SUPPORTED", "REDIRECTED_AUTHENTICATION_MODE_SUPPORTED"];
        for (var bit = 0; bit < 8; bit++)
        {
            if ((flags & (1 << bit)) != 0)
            {
                yield return bit < names.Length ? names[bit] : "0x" + (1 << bit).ToString("x2", CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>RDP_NEG_FAILURE failureCode (MS-RDPBCGR §2.2.1.2.2).</summary>
    internal static string FailureName(uint code) => code switch
    {
        1 => "SSL_REQUIRED_BY_SERVER",
        2 => "SSL_NOT_ALLOWED_BY_SERVER",
        3 => "SSL_CERT_NOT_ON_SERVER",
        4 => "INCONSISTENT_FLAGS",
        5 => "HYBRID_REQUIRED_BY_SERVER",
        6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
        _ => "0x" + code.ToString("x8", CultureInfo.InvariantCulture),
    };
}
