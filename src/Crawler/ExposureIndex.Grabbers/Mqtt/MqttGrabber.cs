using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Mqtt;

/// <summary>
/// MQTT: one anonymous CONNECT (3.1.1, clean session, a random client id, no user name, no password) and the
/// broker's CONNACK. When the broker accepts, we DISCONNECT at once: we never SUBSCRIBE and never read a message
/// (Shodan lists topics; we deliberately do not). The product is left to the probe engine: CONNACK carries no
/// software name or version, and guessing the broker from it would be dishonest.
/// </summary>
internal sealed class MqttGrabber : IGrabber
{
    /// <summary>MQTT 3.1.1's protocol level (§3.1.2.2).</summary>
    public const byte ProtocolLevel = 4;

    private const ushort KeepAliveSeconds = 30;

    public string Name => "mqtt";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["mqtt", "ssl/mqtt", "secure-mqtt"];

    public IReadOnlyList<int> Ports { get; } = [1883];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var section = new MqttSection();
        var record = new ServiceRecord { Module = "mqtt", Mqtt = section };
        return GrabGuard.RunAsync(context, "the MQTT grab", record, async deadline =>
        {
            await using var connection = await context.ConnectAsync(deadline).ConfigureAwait(false);
            await connection.WriteAsync(BuildConnect(NewClientId()), deadline).ConfigureAwait(false);
            var parser = new MqttParser();
            var read = await connection.ReadParsedAsync(parser, MqttParser.MaxRemainingLength + 5, deadline).ConfigureAwait(false);
            if (read.Status != ParseStatus.Complete || parser.Result is not { } connack)
            {
                return read.ToFailure(record, parser.Error ?? "no CONNACK");
            }

            Describe(record, section, connack);
            if (connack.Accepted)
            {
                // §3.14: DISCONNECT is the clean way out; the broker then discards the (clean) session.
                await connection.WriteAsync(new byte[] { 0xE0, 0x00 }, deadline).ConfigureAwait(false);
            }

            return GrabResult.Success(record);
        }, cancellationToken);
    }

    internal static void Describe(ServiceRecord record, MqttSection section, MqttResult connack)
    {
        section.Code = connack.ReturnCode;
        section.ProtocolLevel = ProtocolLevel;
        section.SessionPresent = connack.SessionPresent;
        section.CodeName = connack.CodeName;
        record.Data = ByteString.CopyFrom(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"MQTT Connection Code: {connack.ReturnCode} ({connack.CodeName})\n")));
    }

    /// <summary>A CONNECT packet (§3.1): protocol name "MQTT", level 4, only the clean session flag, the client id as payload.</summary>
    internal static byte[] BuildConnect(string clientId)
    {
        var id = Encoding.UTF8.GetBytes(clientId);
        var body = new List<byte>(12 + id.Length)
        {
            0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T',
            ProtocolLevel,
            0x02, // connect flags (§3.1.2.3): clean session only; no will, no user name, no password
            (byte)(KeepAliveSeconds >> 8), (byte)KeepAliveSeconds,
            (byte)(id.Length >> 8), (byte)id.Length,
        };
        body.AddRange(id);
        return [0x10, .. EncodeRemainingLength(body.Count), .. body];
    }

    internal static byte[] EncodeRemainingLength(int length)
    {
        var bytes = new List<byte>(4);
        do
        {
            var digit = (byte)(length % 128);
            length /= 128;
            bytes.Add(length > 0 ? (byte)(digit | 0x80) : digit);
        }
        while (length > 0);

        return [.. bytes];
    }

    /// <summary>§3.1.3.1: 1-23 characters from [0-9a-zA-Z] are always allowed.</summary>
    private static string NewClientId() => "exposureidx" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}
