using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Grabbers.Smb;

/// <summary>
/// SMB: an SMB2 NEGOTIATE offering 2.0.2 through 3.1.1 (MS-SMB2 §2.2.3, with the 3.1.1 negotiate contexts), then,
/// on a second connection, an SMB1 negotiate offering only "NT LM 0.12" to learn whether SMB1 is still enabled.
/// Never a SESSION_SETUP: negotiation is all that happens before authentication, and we stop there.
/// </summary>
internal sealed class SmbGrabber : IGrabber
{
    public static readonly IReadOnlyList<ushort> Dialects = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];

    public string Name => "smb";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["microsoft-ds", "smb"];

    public IReadOnlyList<int> Ports { get; } = [445];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var section = new SmbSection();
        var record = new ServiceRecord { Module = Name, Smb = section };
        return GrabGuard.RunAsync(context, "the SMB grab", record, async deadline =>
        {
            SmbResult? negotiate;
            await using (var connection = await context.ConnectAsync(deadline).ConfigureAwait(false))
            {
                await connection.WriteAsync(BuildSmb2Negotiate(RandomNumberGenerator.GetBytes(16), RandomNumberGenerator.GetBytes(32)), deadline).ConfigureAwait(false);
                var parser = new SmbParser();
                var read = await connection.ReadParsedAsync(parser, 4 + SmbParser.MaxFrameBytes, deadline).ConfigureAwait(false);
                negotiate = read.Status == ParseStatus.Complete ? parser.Result : null;
                if (negotiate is null)
                {
                    return read.ToFailure(record, parser.Error ?? "no negotiate response", maxData: 1024);
                }
            }

            // Describe now, so a deadline that passes during the SMB1 probe keeps the SMB2 answer.
            Describe(record, negotiate, null);
            bool? smb1;
            try
            {
                smb1 = await TrySmb1Async(context, deadline).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                smb1 = null;
            }

            Describe(record, negotiate, smb1);
            return GrabResult.Success(record);
        }, cancellationToken);
    }

    /// <summary>
    /// The SMB1 probe's verdict: true when "NT LM 0.12" was accepted; false when it was refused (no dialect, an SMB2
    /// answer, or the connection dropped - Windows resets it when SMB1 is removed); null when unclear.
    /// </summary>
    private static async ValueTask<bool?> TrySmb1Async(GrabContext context, CancellationToken deadline)
    {
        try
        {
            await using var connection = await context.ConnectAsync(deadline).ConfigureAwait(false);
            await connection.WriteAsync(BuildSmb1Negotiate(), deadline).ConfigureAwait(false);
            var parser = new SmbParser();
            var read = await connection.ReadParsedAsync(parser, 4 + SmbParser.MaxFrameBytes, deadline).ConfigureAwait(false);
            if (read.Status == ParseStatus.Complete)
            {
                return parser.Result!.Smb1 is { } smb1 ? smb1.Accepted : false;
            }

            return read.EndOfStream && read.Bytes.Length == 0 ? false : null;
        }
        catch (GrabLimitException)
        {
            return null;
        }
        catch (IOException)
        {
            // A reset instead of an answer is how SMB1-less Windows says no.
            return false;
        }
    }

    internal static void Describe(ServiceRecord record, SmbResult negotiate, bool? smb1Enabled)
    {
        var section = record.Smb = new SmbSection();
        if (smb1Enabled is { } enabled)
        {
            section.Smb1Enabled = enabled;
        }

        var data = new StringBuilder("SMB Status:\n");
        if (negotiate.Smb2 is { } smb2)
        {
            section.SmbVersion = 2;
            if (smb2.Status != 0)
            {
                data.Append(CultureInfo.InvariantCulture, $"  SMB Version: 2\n  Negotiate error: NTSTATUS 0x{smb2.Status:x8}\n");
            }
            else
            {
                section.Dialect = DialectName(smb2.DialectRevision);
                section.SecurityMode = smb2.SecurityMode;
                section.SigningEnabled = (smb2.SecurityMode & 0x01) != 0;
                section.SigningRequired = (smb2.SecurityMode & 0x02) != 0;
                section.ServerGuid = smb2.ServerGuid.ToString();
                section.Capabilities.AddRange(CapabilityNames(smb2.Capabilities));
                section.MaxTransactSize = smb2.MaxTransactSize;
                section.MaxReadSize = smb2.MaxReadSize;
                section.MaxWriteSize = smb2.MaxWriteSize;
                if (FromFileTime(smb2.SystemTime) is { } now)
                {
                    section.SystemTime = Timestamp.FromDateTimeOffset(now);
                }

                if (FromFileTime(smb2.ServerStartTime) is { } start)
                {
                    section.ServerStartTime = Timestamp.FromDateTimeOffset(start);
                }

                section.PreauthHash = string.Join(", ", smb2.PreauthHashes.Select(h => h == 1 ? "SHA-512" : "0x" + h.ToString("x4", CultureInfo.InvariantCulture)));
                section.Cipher = string.Join(", ", smb2.Ciphers.Select(CipherName));
                section.SigningAlgorithm = string.Join(", ", smb2.SigningAlgorithms.Select(SigningName));
                section.AuthMechanisms.AddRange(smb2.SecurityMechanisms);
                data.Append(CultureInfo.InvariantCulture, $"  SMB Version: 2\n  Dialect: {section.Dialect}\n");
                data.Append("  Signing: ").Append(section.SigningRequired ? "required" : section.SigningEnabled ? "enabled, not required" : "disabled").Append('\n');
                data.Append("  Capabilities: ").Append(string.Join(", ", section.Capabilities)).Append('\n');
                data.Append("  Server GUID: ").Append(section.ServerGuid).Append('\n');
                if (section.Cipher.Length > 0)
                {
                    data.Append("  Encryption: ").Append(section.Cipher).Append('\n');
                }

                if (section.AuthMechanisms.Count > 0)
                {
                    data.Append("  Security mechanisms: ").Append(string.Join(", ", section.AuthMechanisms)).Append('\n');
                }

                if (TryNetbiosNameGuid(smb2.ServerGuidBytes, out var name))
                {
                    // Samba fills the server GUID with its NetBIOS name, lower-cased and zero-padded; Windows uses a
                    // random GUID. That is evidence enough for the product; nothing on the wire states the version.
                    new ProductMatch("Samba", null, "NetBIOS name: " + name.ToUpperInvariant(), null, Cpe.Application("samba", "samba", null)).ApplyTo(record);
                }
            }
        }
        else if (negotiate.Smb1 is { } old)
        {
            // The server answered SMB2 with SMB1: it predates SMB2 (or has it disabled).
            section.SmbVersion = 1;
            data.Append(CultureInfo.InvariantCulture, $"  SMB Version: 1\n  Dialect index: {old.DialectIndex}\n");
        }

        if (section.HasSmb1Enabled)
        {
            data.Append("  SMB1: ").Append(section.Smb1Enabled ? "enabled" : "disabled").Append('\n');
        }

        record.Data = ByteString.CopyFromUtf8(data.ToString());
    }

    /// <summary>True when the GUID bytes are a NetBIOS name (1-15 lower-case name characters) followed by zeros.</summary>
    internal static bool TryNetbiosNameGuid(ReadOnlySpan<byte> guid, out string name)
    {
        name = string.Empty;
        var length = guid.IndexOf((byte)0);
        if (length is < 1 or > 15 || guid[length..].ContainsAnyExcept((byte)0))
        {
            return false;
        }

        foreach (var b in guid[..length])
        {
            if (!(b is >= (byte)'a' and <= (byte)'z' || b is >= (byte)'0' and <= (byte)'9' || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'$'))
            {
                return false;
            }
        }

        name = Encoding.ASCII.GetString(guid[..length]);
        return true;
    }

    internal static string DialectName(int dialect) => dialect switch
    {
        0x0202 => "2.0.2",
        0x0210 => "2.1",
        0x0300 => "3.0",
        0x0302 => "3.0.2",
        0x0311 => "3.1.1",
        0x02FF => "2.???",
        _ => "0x" + dialect.ToString("x4", CultureInfo.InvariantCulture),
    };

    /// <summary>SMB2 global capabilities (MS-SMB2 §2.2.4).</summary>
    internal static IEnumerable<string> CapabilityNames(uint capabilities)
    {
        string[] names = ["DFS", "LEASING", "LARGE_MTU", "MULTI_CHANNEL", "PERSISTENT_HANDLES", "DIRECTORY_LEASING", "ENCRYPTION", "NOTIFICATIONS"];
        for (var bit = 0; bit < 32; bit++)
        {
            if ((capabilities & (1u << bit)) != 0)
            {
                yield return bit < names.Length ? names[bit] : "0x" + (1u << bit).ToString("x8", CultureInfo.InvariantCulture);
            }
        }
    }

    private static string CipherName(int cipher) => cipher switch
    {
        1 => "AES-128-CCM",
        2 => "AES-128-GCM",
        3 => "AES-256-CCM",
        4 => "AES-256-GCM",
        _ => "0x" + cipher.ToString("x4", CultureInfo.InvariantCulture),
    };

    private static string SigningName(int algorithm) => algorithm switch
    {
        0 => "HMAC-SHA256",
        1 => "AES-CMAC",
        2 => "AES-GMAC",
        _ => "0x" + algorithm.ToString("x4", CultureInfo.InvariantCulture),
    };

    /// <summary>FILETIME: 100 ns ticks since 1601-01-01 UTC; 0 means "not set" (Samba and Windows 10 send 0 for start time).</summary>
    private static DateTimeOffset? FromFileTime(long fileTime)
        => fileTime <= 0 || fileTime > DateTimeOffset.MaxValue.ToFileTime() ? null : DateTimeOffset.FromFileTime(fileTime).ToUniversalTime();

    /// <summary>
    /// Direct-TCP framing (a zero byte, a 24-bit length), the 64-byte SMB2 header (§2.2.1.2, command NEGOTIATE,
    /// message id 0) and the NEGOTIATE request (§2.2.3): signing enabled, our dialects, and the 3.1.1 contexts
    /// (pre-authentication integrity SHA-512 with a random salt, the four ciphers, the three signing algorithms).
    /// </summary>
    internal static byte[] BuildSmb2Negotiate(ReadOnlySpan<byte> clientGuid, ReadOnlySpan<byte> salt)
    {
        var header = new byte[64];
        header[0] = 0xFE;
        "SMB"u8.CopyTo(header.AsSpan(1));
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(14), 1); // credits requested
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(32), 0xFEFF); // reserved (process id), as clients send

        var contexts = new List<byte[]>
        {
            Context(1, [.. U16(1), .. U16((ushort)salt.Length), .. U16(1), .. salt]),
            Context(2, [.. U16(4), .. U16(2), .. U16(1), .. U16(4), .. U16(3)]),
            Context(8, [.. U16(3), .. U16(2), .. U16(1), .. U16(0)]),
        };
        var fixedLength = 36 + (2 * Dialects.Count);
        var contextOffset = (64 + fixedLength + 7) & ~7;
        var body = new List<byte>(256);
        body.AddRange(U16(36));
        body.AddRange(U16((ushort)Dialects.Count));
        body.AddRange(U16(0x0001)); // SecurityMode: signing enabled
        body.AddRange(U16(0));
        body.AddRange(U32(0x7F)); // Capabilities: the seven a 3.x client may claim
        body.AddRange(clientGuid.ToArray());
        body.AddRange(U32((uint)contextOffset));
        body.AddRange(U16((ushort)contexts.Count));
        body.AddRange(U16(0));
        foreach (var dialect in Dialects)
        {
            body.AddRange(U16(dialect));
        }

        foreach (var context in contexts)
        {
            while ((64 + body.Count) % 8 != 0)
            {
                body.Add(0);
            }

            body.AddRange(context);
        }

        return Frame([.. header, .. body]);
    }

    /// <summary>An SMB1 NEGOTIATE (MS-CIFS §2.2.4.52.1) offering only "NT LM 0.12", with extended security asked.</summary>
    internal static byte[] BuildSmb1Negotiate()
    {
        var header = new byte[32];
        header[0] = 0xFF;
        "SMB"u8.CopyTo(header.AsSpan(1));
        header[4] = 0x72;
        header[9] = 0x18; // Flags: case-insensitive paths, canonicalized
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(10), 0xC853); // Flags2: Unicode, NT status, extended security, long names
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(26), 0xFEFF); // PIDLow
        byte[] dialects = [0x02, .. "NT LM 0.12"u8, 0x00];
        return Frame([.. header, 0x00, .. U16((ushort)dialects.Length), .. dialects]);
    }

    private static byte[] Context(ushort type, byte[] data) => [.. U16(type), .. U16((ushort)data.Length), 0, 0, 0, 0, .. data];

    private static byte[] Frame(byte[] message) => [0x00, (byte)(message.Length >> 16), (byte)(message.Length >> 8), (byte)message.Length, .. message];

    private static byte[] U16(ushort value) => [(byte)value, (byte)(value >> 8)];

    private static byte[] U32(uint value) => [(byte)value, (byte)(value >> 8), (byte)(value >> 16), (byte)(value >> 24)];
}
