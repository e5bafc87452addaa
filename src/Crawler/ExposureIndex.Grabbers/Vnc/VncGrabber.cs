using System.Globalization;
using System.Text;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Vnc;

/// <summary>
/// VNC: read the server's RFB ProtocolVersion, answer with the version we speak (RFC 6143 §7.1.1), read the
/// security types it offers (§7.1.2), and close. We never choose a security type: choosing one starts
/// authentication. The product is not claimed: the handshake names only the protocol, and the servers share it.
/// </summary>
internal sealed class VncGrabber : IGrabber
{
    private const int MaxBytes = 2048;

    public string Name => "vnc";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["vnc", "ssl/vnc"];

    public IReadOnlyList<int> Ports { get; } = [5900, 5901];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var record = new ServiceRecord { Module = Name, Vnc = new VncSection() };
        return GrabGuard.RunAsync(context, "the VNC grab", record, async deadline =>
        {
            await using var connection = await context.ConnectAsync(deadline).ConfigureAwait(false);
            var parser = new VncParser();
            var answered = false;
            var read = await connection.ReadParsedAsync(parser, MaxBytes, deadline, async () =>
            {
                if (!answered && parser.ClientVersion is { } reply)
                {
                    // Keep what we know now: a server that stalls after its version still told us the protocol.
                    answered = true;
                    record.Vnc.ProtocolVersion = ProtocolVersionOf(parser.ServerVersion!);
                    record.Data = ByteString.CopyFromUtf8(parser.ServerVersion + "\n");
                    await connection.WriteAsync(Encoding.ASCII.GetBytes(reply), deadline).ConfigureAwait(false);
                }

                return true;
            }).ConfigureAwait(false);
            if (read.Status != ParseStatus.Complete || parser.Result is not { } result)
            {
                return read.ToFailure(record, parser.Error ?? "no RFB security types");
            }

            Describe(record, result);
            return GrabResult.Success(record);
        }, cancellationToken);
    }

    internal static void Describe(ServiceRecord record, VncResult result)
    {
        var section = record.Vnc ??= new VncSection();
        section.ProtocolVersion = result.ProtocolVersion;
        foreach (var type in result.SecurityTypes)
        {
            section.SecurityTypes[type.ToString(CultureInfo.InvariantCulture)] = VncResult.SecurityTypeName(type);
        }

        section.Error = result.FailureReason ?? string.Empty;
        var data = new StringBuilder(result.ServerVersion).Append('\n');
        if (result.SecurityTypes.Count > 0)
        {
            data.Append("Security types:\n");
            foreach (var type in result.SecurityTypes)
            {
                data.Append(CultureInfo.InvariantCulture, $"  {type}: {VncResult.SecurityTypeName(type)}\n");
            }
        }

        if (result.FailureReason is { } reason)
        {
            data.Append("Error: ").Append(reason).Append('\n');
        }

        record.Data = ByteString.CopyFromUtf8(data.ToString());
    }

    private static string ProtocolVersionOf(string serverVersion) => new VncResult(serverVersion, serverVersion, [], null).ProtocolVersion;
}
