using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ExposureIndex.Grabbers.Smb;

/// <summary>
/// Incremental parser of a server's negotiate response over direct TCP (MS-SMB2 §2.1: a zero byte and a 24-bit
/// length, then the message). The message is an SMB2 NEGOTIATE response (MS-SMB2 §2.2.4, with the 3.1.1 negotiate
/// contexts of §2.2.3.1 and the SPNEGO hints in its security buffer) or an SMB1 negotiate response (MS-CIFS
/// §2.2.4.52.2). The frame length is capped before buffering; every offset and count inside is checked against the
/// frame. Pure: no sockets, no clock.
/// </summary>
internal sealed class SmbParser : IIncrementalParser<SmbResult>
{
    public const int MaxFrameBytes = 64 * 1024;
    private const int Smb2HeaderLength = 64;
    private const int MaxContexts = 32;
    private const int MaxListItems = 16;

    private readonly List<byte> _buffer = new(512);
    private int _frameLength = -1;
    private ParseStatus _status = ParseStatus.NeedMore;

    public SmbResult? Result { get; private set; }

    public string? Error { get; private set; }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        if (_status != ParseStatus.NeedMore || chunk.IsEmpty)
        {
            return _status;
        }

        var room = 4 + MaxFrameBytes - _buffer.Count;
        _buffer.AddRange(chunk[..Math.Min(room, chunk.Length)]);
        var data = CollectionsMarshal.AsSpan(_buffer);
        if (data[0] != 0x00)
        {
            // RFC 1002 §4.3.1 session packet types: 0x83 is a negative session response (port 139 without a session request).
            return Fail(data[0] == 0x83
                ? "NetBIOS negative session response (0x83): the port wants a NetBIOS session request first"
                : $"frame type 0x{data[0]:x2} is not a session message");
        }

        if (_frameLength < 0)
        {
            if (data.Length < 4)
            {
                return _status;
            }

            _frameLength = (data[1] << 16) | (data[2] << 8) | data[3];
            if (_frameLength > MaxFrameBytes)
            {
                return Fail($"negotiate response frame of {_frameLength} bytes is over the {MaxFrameBytes}-byte cap");
            }

            if (_frameLength < 4)
            {
                return Fail($"negotiate response frame of {_frameLength} bytes is too short for an SMB header");
            }
        }

        if (data.Length >= 8)
        {
            var protocol = data.Slice(4, 4);
            if (protocol[0] is not (0xFE or 0xFF) || !protocol[1..].SequenceEqual("SMB"u8))
            {
                return Fail($"frame does not carry SMB (protocol id {Convert.ToHexStringLower(protocol)})");
            }
        }

        if (data.Length < 4 + _frameLength)
        {
            return _status;
        }

        try
        {
            var message = data.Slice(4, _frameLength);
            Result = message[0] == 0xFE ? new SmbResult(ParseSmb2(message), null) : new SmbResult(null, ParseSmb1(message));
            _status = ParseStatus.Complete;
            return _status;
        }
        catch (FormatException e)
        {
            return Fail(e.Message);
        }
    }

    public ParseStatus End()
        => _status == ParseStatus.NeedMore
            ? Fail(_buffer.Count == 0 ? "the server closed without answering the negotiate request" : $"the server closed after {_buffer.Count} bytes of the negotiate response")
            : _status;

    private ParseStatus Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
        return _status;
    }

    private static Smb2Negotiate ParseSmb2(ReadOnlySpan<byte> m)
    {
        Need(m, Smb2HeaderLength, "SMB2 header");
        var status = BinaryPrimitives.ReadUInt32LittleEndian(m[8..]);
        var command = BinaryPrimitives.ReadUInt16LittleEndian(m[12..]);
        if (command != 0)
        {
            throw new FormatException($"SMB2 command {command} is not NEGOTIATE (0)");
        }

        if (status != 0)
        {
            // §2.2.2 ERROR response: nothing negotiated; keep the NTSTATUS.
            return new Smb2Negotiate(status, 0, 0, Guid.Empty, [], 0, 0, 0, 0, 0, 0, [], [], [], [], null);
        }

        var b = m[Smb2HeaderLength..];
        Need(b, 64, "SMB2 NEGOTIATE response body");
        if (BinaryPrimitives.ReadUInt16LittleEndian(b) != 65)
        {
            throw new FormatException($"SMB2 NEGOTIATE response StructureSize is {BinaryPrimitives.ReadUInt16LittleEndian(b)}, not 65");
        }

        var securityMode = BinaryPrimitives.ReadUInt16LittleEndian(b[2..]);
        var dialect = BinaryPrimitives.ReadUInt16LittleEndian(b[4..]);
        var contextCount = BinaryPrimitives.ReadUInt16LittleEndian(b[6..]);
        var guidBytes = b.Slice(8, 16).ToArray();
        var capabilities = BinaryPrimitives.ReadUInt32LittleEndian(b[24..]);
        var maxTransact = BinaryPrimitives.ReadUInt32LittleEndian(b[28..]);
        var maxRead = BinaryPrimitives.ReadUInt32LittleEndian(b[32..]);
        var maxWrite = BinaryPrimitives.ReadUInt32LittleEndian(b[36..]);
        var systemTime = BinaryPrimitives.ReadInt64LittleEndian(b[40..]);
        var startTime = BinaryPrimitives.ReadInt64LittleEndian(b[48..]);
        var securityOffset = BinaryPrimitives.ReadUInt16LittleEndian(b[56..]);
        var securityLength = BinaryPrimitives.ReadUInt16LittleEndian(b[58..]);
        var contextOffset = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(b[60..]), int.MaxValue);

        var mechanisms = new List<string>();
        string? hint = null;
        if (securityLength > 0)
        {
            // Offsets count from the start of the SMB2 header (§2.2.4).
            if (securityOffset + securityLength > m.Length)
            {
                throw new FormatException($"SMB2 security buffer ({securityLength} bytes at {securityOffset}) runs past the {m.Length}-byte message");
            }

            ReadSpnegoHints(m.Slice(securityOffset, securityLength), mechanisms, ref hint);
        }

        List<int> hashes = [], ciphers = [], signing = [];
        if (dialect == 0x0311 && contextCount > 0)
        {
            ReadContexts(m, contextOffset, Math.Min((int)contextCount, MaxContexts), hashes, ciphers, signing);
        }

        return new Smb2Negotiate(status, securityMode, dialect, new Guid(guidBytes), guidBytes, capabilities, maxTransact, maxRead, maxWrite, systemTime, startTime, hashes, ciphers, signing, mechanisms, hint);
    }

    /// <summary>§2.2.3.1 contexts: ContextType, DataLength, Reserved, Data; each starts 8-byte aligned.</summary>
    private static void ReadContexts(ReadOnlySpan<byte> m, int offset, int count, List<int> hashes, List<int> ciphers, List<int> signing)
    {
        for (var i = 0; i < count; i++)
        {
            offset = (offset + 7) & ~7;
            if (offset + 8 > m.Length)
            {
                throw new FormatException($"SMB2 negotiate context {i} at byte {offset} runs past the {m.Length}-byte message");
            }

            var type = BinaryPrimitives.ReadUInt16LittleEndian(m[offset..]);
            var length = BinaryPrimitives.ReadUInt16LittleEndian(m[(offset + 2)..]);
            if (offset + 8 + length > m.Length)
            {
                throw new FormatException($"SMB2 negotiate context {i} (type {type}) declares {length} bytes past the end of the message");
            }

            var data = m.Slice(offset + 8, length);
            switch (type)
            {
                case 1 when data.Length >= 4:
                    // SMB2_PREAUTH_INTEGRITY_CAPABILITIES: HashAlgorithmCount, SaltLength, HashAlgorithms[].
                    ReadList(data[4..], BinaryPrimitives.ReadUInt16LittleEndian(data), hashes);
                    break;
                case 2 when data.Length >= 2:
                    // SMB2_ENCRYPTION_CAPABILITIES: CipherCount, Ciphers[].
                    ReadList(data[2..], BinaryPrimitives.ReadUInt16LittleEndian(data), ciphers);
                    break;
                case 8 when data.Length >= 2:
                    // SMB2_SIGNING_CAPABILITIES: SigningAlgorithmCount, SigningAlgorithms[].
                    ReadList(data[2..], BinaryPrimitives.ReadUInt16LittleEndian(data), signing);
                    break;
            }

            offset += 8 + length;
        }
    }

    private static void ReadList(ReadOnlySpan<byte> data, int count, List<int> into)
    {
        for (var i = 0; i < count && i < MaxListItems && (2 * i) + 2 <= data.Length; i++)
        {
            into.Add(BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]));
        }
    }

    /// <summary>
    /// The server's SPNEGO NegTokenInit (RFC 4178 §4.2.1, wrapped per RFC 2743 §3.1): its mechTypes and the
    /// negHints hintName Windows and Samba send. Best effort: a blob we cannot read just yields nothing.
    /// </summary>
    private static void ReadSpnegoHints(ReadOnlySpan<byte> blob, List<string> mechanisms, ref string? hint)
    {
        try
        {
            var outer = new BerReader(blob, "SPNEGO token");
            var token = new BerReader(outer.Read(0x60, "InitialContextToken"), "SPNEGO token");
            if (Ber.DecodeOid(token.Read(Ber.ObjectIdentifier, "thisMech")) != "1.3.6.1.5.5.2")
            {
                return;
            }

            var init = new BerReader(token.Read(0xA0, "negTokenInit"), "SPNEGO negTokenInit");
            var fields = new BerReader(init.Read(Ber.Sequence, "NegTokenInit"), "SPNEGO NegTokenInit");
            while (fields.HasMore)
            {
                var field = fields.Read(out var tag);
                if (tag == 0xA0)
                {
                    var types = new BerReader(new BerReader(field, "mechTypes").Read(Ber.Sequence, "MechTypeList"), "SPNEGO mechTypes");
                    while (types.HasMore && mechanisms.Count < MaxListItems)
                    {
                        mechanisms.Add(MechanismName(Ber.DecodeOid(types.Read(Ber.ObjectIdentifier, "MechType"))));
                    }
                }
                else if (tag == 0xA3)
                {
                    var hints = new BerReader(new BerReader(field, "negHints").Read(Ber.Sequence, "NegHints"), "SPNEGO negHints");
                    if (hints.HasMore && hints.PeekTag() == 0xA0)
                    {
                        hint = new BerReader(hints.Read(0xA0, "hintName"), "SPNEGO hintName").ReadString("hintName", 256, 0x1B);
                    }
                }
            }
        }
        catch (BerException)
        {
            // Not fatal: the negotiate response itself was read.
        }
    }

    private static string MechanismName(string oid) => oid switch
    {
        "1.3.6.1.4.1.311.2.2.10" => "NTLMSSP",
        "1.2.840.48018.1.2.2" => "MS-KRB5",
        "1.2.840.113554.1.2.2" => "KRB5",
        "1.2.840.113554.1.2.2.3" => "KRB5-U2U",
        "1.3.6.1.4.1.311.2.2.30" => "NEGOEX",
        _ => oid,
    };

    /// <summary>SMB1 header (MS-CIFS §2.2.3.1, 32 bytes), then WordCount and the first word: DialectIndex.</summary>
    private static Smb1Negotiate ParseSmb1(ReadOnlySpan<byte> m)
    {
        Need(m, 33, "SMB1 header");
        if (m[4] != 0x72)
        {
            throw new FormatException($"SMB1 command 0x{m[4]:x2} is not NEGOTIATE (0x72)");
        }

        var status = BinaryPrimitives.ReadUInt32LittleEndian(m[5..]);
        var wordCount = m[32];
        var dialectIndex = wordCount >= 1 && m.Length >= 35 ? BinaryPrimitives.ReadUInt16LittleEndian(m[33..]) : 0xFFFF;
        return new Smb1Negotiate(status, wordCount, dialectIndex);
    }

    private static void Need(ReadOnlySpan<byte> data, int length, string what)
    {
        if (data.Length < length)
        {
            throw new FormatException($"{what} needs {length} bytes but the message has {data.Length}");
        }
    }
}
