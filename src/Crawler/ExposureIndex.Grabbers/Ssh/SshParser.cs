using System.Buffers.Binary;
using System.Text;
using ExposureIndex.Contracts;

namespace ExposureIndex.Grabbers.Ssh;

/// <summary>
/// Incremental parser of what an SSH server sends before any encryption (RFC 4253): optional lines before the
/// identification string (§4.2), the identification string, then unencrypted binary packets (§6) - its KEXINIT
/// (§7.1) and its key exchange reply (message 31: KEXDH_REPLY §8, KEX_ECDH_REPLY RFC 5656 §4, which both start
/// with the host key K_S). IGNORE, DEBUG and UNIMPLEMENTED packets are skipped; DISCONNECT ends the parse with
/// its reason. <see cref="KexInit"/> is available as soon as the KEXINIT is parsed, so the grabber can answer it
/// while the parse goes on. Lines, line counts and packet sizes are capped. Pure: no sockets, no clock.
/// </summary>
internal sealed class SshParser : IIncrementalParser<SshResult>
{
    /// <summary>RFC 4253 §4.2 limits the identification to 255 bytes; we allow more before calling it garbage.</summary>
    public const int MaxLineBytes = 1024;

    public const int MaxPreBannerLines = 64;

    /// <summary>RFC 4253 §6.1: at least 35000 bytes must be accepted; post-quantum replies are a few KiB.</summary>
    public const int MaxPacketLength = 256 * 1024;

    private const int MaxPackets = 32;
    private const int MaxNameListBytes = 64 * 1024;

    private readonly bool _expectKexReply;
    private readonly List<byte> _line = new(256);
    private readonly List<string> _preBanner = [];
    private readonly byte[] _lengthBytes = new byte[4];
    private MemoryStream? _packet;
    private int _lengthFill;
    private int _packetRemaining;
    private int _packets;
    private string? _banner;
    private ParseStatus _status = ParseStatus.NeedMore;

    /// <param name="expectKexReply">True: complete on the key exchange reply (the host key). False: complete on the KEXINIT.</param>
    public SshParser(bool expectKexReply = true) => _expectKexReply = expectKexReply;

    public SshResult? Result { get; private set; }

    public string? Error { get; private set; }

    /// <summary>The identification string, once parsed.</summary>
    public string? Banner => _banner;

    /// <summary>What is known so far (banner, perhaps the KEXINIT), for keeping partial data after an error; null before the banner.</summary>
    public SshResult? Partial => _banner is null ? null : new SshResult(_preBanner.ToArray(), _banner, KexInit, null, null, null);

    /// <summary>The server's KEXINIT, once parsed (before the parse completes).</summary>
    public SshKexInit? KexInit { get; private set; }

    /// <summary>True when the identification says SSH 2 ("SSH-2.0-" or "SSH-1.99-"), so a key exchange can follow.</summary>
    public bool SpeaksSsh2 => _banner is not null && (_banner.StartsWith("SSH-2.0-", StringComparison.Ordinal) || _banner.StartsWith("SSH-1.99-", StringComparison.Ordinal));

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        var i = 0;
        while (i < chunk.Length && _status == ParseStatus.NeedMore)
        {
            if (_banner is null)
            {
                ConsumeLineByte(chunk[i++]);
            }
            else if (_packet is null)
            {
                _lengthBytes[_lengthFill++] = chunk[i++];
                if (_lengthFill == 4)
                {
                    _lengthFill = 0;
                    StartPacket(BinaryPrimitives.ReadUInt32BigEndian(_lengthBytes));
                }
            }
            else
            {
                var take = Math.Min(_packetRemaining, chunk.Length - i);
                _packet.Write(chunk.Slice(i, take));
                i += take;
                _packetRemaining -= take;
                if (_packetRemaining == 0)
                {
                    var packet = _packet.ToArray();
                    _packet = null;
                    OnPacket(packet);
                }
            }
        }

        return _status;
    }

    public ParseStatus End()
    {
        if (_status != ParseStatus.NeedMore)
        {
            return _status;
        }

        if (_banner is null)
        {
            Fail(_preBanner.Count == 0 && _line.Count == 0
                ? "the server closed the connection without an SSH identification string"
                : "the server closed the connection before an SSH identification string (RFC 4253 §4.2)");
        }
        else
        {
            // Keep what arrived: the banner (and perhaps the KEXINIT) identify the server even without a key.
            Complete(hostKey: null, disconnect: null);
        }

        return _status;
    }

    private void ConsumeLineByte(byte b)
    {
        if (b == (byte)'\n')
        {
            var length = _line.Count > 0 && _line[^1] == (byte)'\r' ? _line.Count - 1 : _line.Count;
            var text = BannerText.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_line)[..length]);
            _line.Clear();
            if (text.StartsWith("SSH-", StringComparison.Ordinal))
            {
                _banner = text;
                if (!SpeaksSsh2)
                {
                    // SSH 1 only (RFC 4253 §5.1): nothing more we can parse; the banner is the result.
                    Complete(hostKey: null, disconnect: null);
                }

                return;
            }

            if (_preBanner.Count >= MaxPreBannerLines)
            {
                Fail($"more than {MaxPreBannerLines} lines before the SSH identification string");
                return;
            }

            _preBanner.Add(text);
            return;
        }

        if (_line.Count >= MaxLineBytes)
        {
            Fail(_line.Take(4).SequenceEqual("SSH-"u8.ToArray())
                ? $"the SSH identification string exceeds {MaxLineBytes} bytes"
                : $"a line before the SSH identification string exceeds {MaxLineBytes} bytes");
            return;
        }

        if (b == 0 && _line.Count < 4)
        {
            // RFC 4253 §4.2: the lines are text; a NUL this early is binary garbage.
            Fail("binary data where the SSH identification string belongs");
            return;
        }

        _line.Add(b);
    }

    private void StartPacket(uint length)
    {
        // packet_length excludes itself and the MAC; it covers padding_length, payload and padding (RFC 4253 §6).
        if (length < 5 || length > MaxPacketLength)
        {
            Fail($"SSH packet length {length} is outside 5..{MaxPacketLength} (RFC 4253 §6.1)");
            return;
        }

        if (++_packets > MaxPackets)
        {
            Fail($"no key exchange reply within {MaxPackets} SSH packets");
            return;
        }

        _packet = new MemoryStream((int)length);
        _packetRemaining = (int)length;
    }

    private void OnPacket(byte[] packet)
    {
        var padding = packet[0];
        if (padding < 4 || padding + 1 >= packet.Length)
        {
            Fail($"SSH padding length {padding} does not fit a {packet.Length}-byte packet (RFC 4253 §6)");
            return;
        }

        var payload = packet.AsSpan(1, packet.Length - 1 - padding);
        var reader = new Reader(payload[1..]);
        switch (payload[0])
        {
            case 1:
                // SSH_MSG_DISCONNECT: uint32 reason, string description, string language (RFC 4253 §11.1).
                var reason = reader.UInt32();
                var description = reader.Text();
                Complete(hostKey: null, disconnect: description is null ? $"reason {reason}" : $"{description} (reason {reason})");
                return;
            case 2 or 3 or 4:
                return;
            case 20:
                if (KexInit is not null)
                {
                    Fail("the server sent a second KEXINIT");
                    return;
                }

                ParseKexInit(ref reader);
                if (_status == ParseStatus.NeedMore && !_expectKexReply)
                {
                    Complete(hostKey: null, disconnect: null);
                }

                return;
            case 31:
                if (KexInit is null)
                {
                    Fail("a key exchange reply arrived before the server's KEXINIT");
                    return;
                }

                var hostKey = reader.Bytes();
                if (hostKey is null)
                {
                    Fail("the key exchange reply's host key (K_S) is cut short");
                    return;
                }

                Complete(hostKey, disconnect: null);
                return;
            default:
                Fail($"unexpected SSH message {payload[0]} before the key exchange reply");
                return;
        }
    }

    private void ParseKexInit(ref Reader reader)
    {
        // byte[16] cookie, ten name-lists, boolean first_kex_packet_follows, uint32 reserved (RFC 4253 §7.1).
        if (!reader.Skip(16))
        {
            Fail("KEXINIT is cut short in its cookie");
            return;
        }

        var lists = new IReadOnlyList<string>[10];
        for (var n = 0; n < lists.Length; n++)
        {
            var text = reader.Text(MaxNameListBytes);
            if (text is null)
            {
                Fail($"KEXINIT name-list {n + 1} of 10 is cut short or too long");
                return;
            }

            lists[n] = text.Length == 0 ? [] : text.Split(',');
        }

        var follows = reader.Byte() is { } flag && flag != 0;
        KexInit = new SshKexInit(lists[0], lists[1], lists[2], lists[3], lists[4], lists[5], lists[6], lists[7], lists[8], lists[9], follows);
    }

    private void Complete(byte[]? hostKey, string? disconnect)
    {
        string? keyType = null;
        if (hostKey is not null)
        {
            var keyReader = new Reader(hostKey);
            keyType = keyReader.Text(256);
        }

        Result = new SshResult(_preBanner.ToArray(), _banner ?? string.Empty, KexInit, hostKey, keyType, disconnect);
        _status = ParseStatus.Complete;
    }

    private void Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
    }

    /// <summary>Reads RFC 4251 §5 data types; every read is bounds-checked and returns null when cut short.</summary>
    internal ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public byte? Byte()
        {
            if (_rest.IsEmpty)
            {
                return null;
            }

            var b = _rest[0];
            _rest = _rest[1..];
            return b;
        }

        public uint? UInt32()
        {
            if (_rest.Length < 4)
            {
                return null;
            }

            var value = BinaryPrimitives.ReadUInt32BigEndian(_rest);
            _rest = _rest[4..];
            return value;
        }

        public bool Skip(int count)
        {
            if (_rest.Length < count)
            {
                return false;
            }

            _rest = _rest[count..];
            return true;
        }

        public byte[]? Bytes(int max = MaxPacketLength)
        {
            if (UInt32() is not { } length || length > max || length > _rest.Length)
            {
                return null;
            }

            var value = _rest[..(int)length].ToArray();
            _rest = _rest[(int)length..];
            return value;
        }

        public string? Text(int max = MaxNameListBytes) => Bytes(max) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;
    }
}
