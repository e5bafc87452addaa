using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace ExposureIndex.Grabbers.Vnc;

/// <summary>What a VNC server said before authentication (RFC 6143 §7.1).</summary>
/// <param name="ServerVersion">The ProtocolVersion line without its newline ("RFB 003.008").</param>
/// <param name="ClientVersion">The version we answered with (<see cref="VncParser.ChooseClientVersion"/>).</param>
/// <param name="SecurityTypes">The offered security types, in the server's order.</param>
/// <param name="FailureReason">The reason string when the server offered no type (or type 0 in 3.3).</param>
internal sealed record VncResult(string ServerVersion, string ClientVersion, IReadOnlyList<int> SecurityTypes, string? FailureReason)
{
    /// <summary>"3.8" from "RFB 003.008".</summary>
    public string ProtocolVersion
        => int.Parse(ServerVersion.AsSpan(4, 3), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture) + "." + int.Parse(ServerVersion.AsSpan(8, 3), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);

    public string Canonical() => $"{ServerVersion}|{ClientVersion}|{string.Join(',', SecurityTypes)}|{FailureReason}";

    /// <summary>Names from IANA's "Remote Framebuffer Security Types" registry (RFC 6143 §8.1.2).</summary>
    public static string SecurityTypeName(int type) => type switch
    {
        0 => "Invalid",
        1 => "None",
        2 => "VNC Authentication",
        5 => "RA2",
        6 => "RA2ne",
        16 => "Tight",
        17 => "Ultra",
        18 => "TLS",
        19 => "VeNCrypt",
        20 => "GTK-VNC SASL",
        21 => "MD5 hash authentication",
        22 => "Colin Dean xvp",
        23 => "Secure Tunnel",
        24 => "Integrated SSH",
        30 => "Apple Remote Desktop (Diffie-Hellman)",
        35 => "Apple Remote Desktop (Kerberos)",
        113 => "MSLogonII",
        _ => type is >= 128 and <= 255 ? "RealVNC" : "Unknown",
    };
}

/// <summary>
/// Incremental parser of the server's side of the RFB opening (RFC 6143 §7.1): the 12-byte ProtocolVersion, then
/// the security handshake in the form our reply selects - a single 32-bit type for 3.3 (§7.1.2 of RFB 3.3), or a
/// count and a list for 3.7 and 3.8; a zero type or count is followed by a length-prefixed reason. The grabber
/// answers the version as soon as <see cref="ServerVersion"/> is known; the parse completes on the security types.
/// Anything after (a 3.3 server's VNC Authentication challenge) is not read. Pure: no sockets, no clock.
/// </summary>
internal sealed class VncParser : IIncrementalParser<VncResult>
{
    public const int VersionLength = 12;
    public const int MaxReasonBytes = 1024;

    private readonly List<byte> _buffer = new(32);
    private ParseStatus _status = ParseStatus.NeedMore;

    public VncResult? Result { get; private set; }

    public string? Error { get; private set; }

    /// <summary>The server's ProtocolVersion line once all 12 bytes arrived.</summary>
    public string? ServerVersion { get; private set; }

    /// <summary>The version line (with newline) the client must answer with, once <see cref="ServerVersion"/> is known.</summary>
    public string? ClientVersion { get; private set; }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        if (_status != ParseStatus.NeedMore || chunk.IsEmpty)
        {
            return _status;
        }

        _buffer.AddRange(chunk[..Math.Min(chunk.Length, VersionLength + 4 + 4 + MaxReasonBytes + 256 - _buffer.Count)]);
        var data = CollectionsMarshal.AsSpan(_buffer);
        var expected = "RFB 000.000\n"u8;
        for (var i = 0; i < Math.Min(data.Length, VersionLength); i++)
        {
            var ok = expected[i] == (byte)'0' ? char.IsAsciiDigit((char)data[i]) : data[i] == expected[i];
            if (!ok)
            {
                return Fail($"byte {i} of the ProtocolVersion is 0x{data[i]:x2}; expected \"RFB xxx.yyy\\n\" (RFC 6143 §7.1.1)");
            }
        }

        if (data.Length < VersionLength)
        {
            return _status;
        }

        if (ServerVersion is null)
        {
            ServerVersion = Encoding.ASCII.GetString(data[..11]);
            ClientVersion = ChooseClientVersion(ServerVersion) + "\n";
        }

        var rest = data[VersionLength..];
        var client = ClientVersion!.TrimEnd('\n');
        if (client == "RFB 003.003")
        {
            // RFB 3.3: the server decides; a U32 type, 0 meaning failure with a reason.
            if (rest.Length < 4)
            {
                return _status;
            }

            var type = BinaryPrimitives.ReadUInt32BigEndian(rest);
            if (type != 0)
            {
                return Complete([(int)Math.Min(type, int.MaxValue)], null);
            }

            return TryReason(rest[4..], []);
        }

        if (rest.Length < 1)
        {
            return _status;
        }

        var count = rest[0];
        if (count == 0)
        {
            return TryReason(rest[1..], []);
        }

        if (rest.Length < 1 + count)
        {
            return _status;
        }

        var types = new int[count];
        for (var i = 0; i < count; i++)
        {
            types[i] = rest[1 + i];
        }

        return Complete(types, null);
    }

    public ParseStatus End()
        => _status == ParseStatus.NeedMore
            ? Fail(ServerVersion is null ? "the server closed before its ProtocolVersion" : $"the server closed after {_buffer.Count} bytes, before its security types")
            : _status;

    /// <summary>
    /// The version we answer (RFC 6143 §7.1.1): the server's own when it is 3.3, 3.7 or 3.8; 3.8 for anything
    /// newer (Apple's 3.889, RealVNC's 4.x and 5.x accept it); 3.3 for the odd old minors (3.4, 3.5, 3.6).
    /// </summary>
    public static string ChooseClientVersion(string serverVersion)
    {
        var major = int.Parse(serverVersion.AsSpan(4, 3), CultureInfo.InvariantCulture);
        var minor = int.Parse(serverVersion.AsSpan(8, 3), CultureInfo.InvariantCulture);
        if (major > 3 || (major == 3 && minor >= 8))
        {
            return "RFB 003.008";
        }

        return major == 3 && minor == 7 ? "RFB 003.007" : "RFB 003.003";
    }

    private ParseStatus TryReason(ReadOnlySpan<byte> rest, int[] types)
    {
        if (rest.Length < 4)
        {
            return _status;
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(rest);
        if (length > MaxReasonBytes)
        {
            return Fail($"failure reason of {length} bytes is over the {MaxReasonBytes}-byte cap");
        }

        if (rest.Length < 4 + length)
        {
            return _status;
        }

        return Complete(types, BerText.Decode(rest.Slice(4, (int)length), MaxReasonBytes));
    }

    private ParseStatus Complete(int[] types, string? reason)
    {
        Result = new VncResult(ServerVersion!, ClientVersion!.TrimEnd('\n'), types, reason);
        _status = ParseStatus.Complete;
        return _status;
    }

    private ParseStatus Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
        return _status;
    }
}
