using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Grabbers.Ntp;

/// <summary>
/// NTP over UDP: a mode 3 client request (RFC 5905 §7.3) and, at the same time, a mode 6 READVAR of the system
/// variables (RFC 9327 §2.5; what ntpq's "rv" sends) for the daemon's version string. Never mode 7 (monlist,
/// the amplification vector). Both replies are small. Our transmit timestamp is random, not our clock, as
/// draft-ietf-ntp-data-minimization advises; the server echoes it as the origin timestamp, which ties the reply
/// to our request.
/// </summary>
internal sealed class NtpGrabber : IGrabber
{
    public string Name => "ntp";

    public Transport Transport => Transport.Udp;

    public IReadOnlyList<string> Services { get; } = ["ntp"];

    public IReadOnlyList<int> Ports { get; } = [123];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var record = new ServiceRecord { Module = Name, Ntp = new NtpSection() };
        return GrabGuard.RunAsync(context, "the NTP grab", record, async deadline =>
        {
            var nonce = BinaryPrimitives.ReadUInt64BigEndian(RandomNumberGenerator.GetBytes(8));
            var sequence = (ushort)RandomNumberGenerator.GetInt32(1, 65_536);
            var client = context.Network.ExchangeUdpAsync(context.Target, BuildClientRequest(nonce), context.Limits, deadline).AsTask();
            var control = context.Network.ExchangeUdpAsync(context.Target, BuildReadVariables(sequence), context.Limits, deadline).AsTask();
            await Task.WhenAll(client, control).ConfigureAwait(false);

            string? error = null;
            NtpResult? reply = null;
            if (client.Result is [var datagram, ..])
            {
                var parser = new NtpParser();
                if (parser.Feed(datagram) == ParseStatus.Complete && parser.Result!.OriginTimestamp == nonce)
                {
                    reply = parser.Result;
                }
                else
                {
                    error = parser.Error ?? "the NTP reply's origin timestamp does not echo our request";
                }
            }

            NtpControlResult? variables = null;
            if (control.Result is [var controlDatagram, ..])
            {
                var parser = new NtpControlParser();
                if (parser.Feed(controlDatagram) == ParseStatus.Complete && parser.Result!.Sequence == sequence && !parser.Result.IsError)
                {
                    variables = parser.Result;
                }
            }

            if (reply is null && variables is null)
            {
                return client.Result.Count == 0
                    ? GrabResult.Failed(GrabOutcome.IoTimeout, "no NTP reply to a client request within the read timeout", record)
                    : GrabResult.Failed(GrabOutcome.ProtocolError, error ?? "unreadable NTP reply", record);
            }

            Describe(record, reply, variables);
            return GrabResult.Success(record);
        }, cancellationToken);
    }

    internal static void Describe(ServiceRecord record, NtpResult? reply, NtpControlResult? variables)
    {
        var section = record.Ntp ??= new NtpSection();
        var data = new StringBuilder("NTP\n");
        if (reply is not null)
        {
            section.Leap = reply.Leap;
            section.ProtocolVersion = reply.Version;
            section.Stratum = reply.Stratum;
            section.Poll = reply.Poll;
            section.Precision = reply.Precision;
            section.RootDelay = reply.RootDelay;
            section.RootDispersion = reply.RootDispersion;
            section.Refid = reply.ReferenceIdText;
            if (NtpResult.ToDateTime(reply.ReferenceTimestamp) is { } reftime)
            {
                section.Reftime = Timestamp.FromDateTimeOffset(reftime);
            }

            data.Append(CultureInfo.InvariantCulture, $"protocolversion: {reply.Version}\nstratum: {reply.Stratum}\nleap: {reply.Leap}\nprecision: {reply.Precision}\n");
            data.Append(CultureInfo.InvariantCulture, $"rootdelay: {reply.RootDelay:0.######}\nrootdispersion: {reply.RootDispersion:0.######}\nrefid: {reply.ReferenceIdText}\npoll: {reply.Poll}\n");
        }

        if (variables is not null)
        {
            section.Version = variables.Get("version") ?? string.Empty;
            section.System = variables.Get("system") ?? string.Empty;
            section.Processor = variables.Get("processor") ?? string.Empty;
            foreach (var (name, value) in variables.Variables)
            {
                section.Variables[name] = value;
            }

            data.Append(variables.Text.Trim()).Append('\n');
        }

        if (NtpProducts.TryParse(section.Version, out var product))
        {
            product.ApplyTo(record);
        }

        if (section.System.Length > 0)
        {
            var os = section.System.Split('/', 2)[0];
            if (os.Length > 0 && !os.Equals("UNIX", StringComparison.OrdinalIgnoreCase))
            {
                record.Os = os;
            }
        }

        record.Data = ByteString.CopyFromUtf8(data.ToString());
    }

    /// <summary>A 48-byte client request: LI 0, VN 4, mode 3, and <paramref name="nonce"/> as the transmit timestamp.</summary>
    internal static byte[] BuildClientRequest(ulong nonce)
    {
        var packet = new byte[NtpParser.HeaderLength];
        packet[0] = (0 << 6) | (4 << 3) | 3;
        BinaryPrimitives.WriteUInt64BigEndian(packet.AsSpan(40), nonce);
        return packet;
    }

    /// <summary>A mode 6 READVAR (opcode 2) for association 0, the system variables; VN 2 as ntpq sends.</summary>
    internal static byte[] BuildReadVariables(ushort sequence)
    {
        var packet = new byte[NtpControlParser.HeaderLength];
        packet[0] = (0 << 6) | (2 << 3) | 6;
        packet[1] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), sequence);
        return packet;
    }
}

/// <summary>The daemon behind the mode 6 "version" variable.</summary>
internal static partial class NtpProducts
{
    public static bool TryParse(string? version, out ProductMatch product)
    {
        product = null!;
        if (string.IsNullOrWhiteSpace(version))
        {
            return false;
        }

        Match m;
        if ((m = NtpSec().Match(version)).Success)
        {
            // "ntpd ntpsec-1.2.2" (NTPsec's own form; a git build appends "+..." after the version).
            var ntpsec = m.Groups[1].Value;
            product = new ProductMatch("NTPsec", ntpsec, null, null, Cpe.Application("ntpsec", "ntpsec", ntpsec));
            return true;
        }

        if ((m = ReferenceNtpd().Match(version)).Success)
        {
            // The reference implementation: "ntpd 4.2.8p15@1.3728-o Wed Sep 23 11:46:38 UTC 2020 (1)".
            var ntpd = m.Groups[1].Value;
            product = new ProductMatch("NTP", ntpd, null, null, Cpe.Application("ntp", "ntp", ntpd));
            return true;
        }

        return false;
    }

    [GeneratedRegex(@"\bntpsec-(\d+\.\d+\.\d+)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex NtpSec();

    [GeneratedRegex(@"^(?:x?ntpd )(\d+\.\d+\.\d+(?:p\d+)?)(?:@|\s|$)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ReferenceNtpd();
}
