using System.Buffers.Binary;

namespace ExposureIndex.Crawler.Discovery;

/// <summary>TCP header flags (RFC 9293 §3.1).</summary>
[Flags]
internal enum TcpFlags : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
}

/// <summary>The fields of a received IPv4 TCP segment that SYN discovery looks at (addresses host-order).</summary>
internal readonly record struct TcpSegmentInfo(uint SourceIp, uint DestinationIp, ushort SourcePort, ushort DestinationPort, uint Sequence, uint Acknowledgement, TcpFlags Flags);

/// <summary>
/// Builds our SYN probes and parses replies: plain byte layouts, no sockets, so they are unit-tested.
/// A probe is an IPv4 header (RFC 791 §3.1; the kernel fills total length and header checksum anyway under
/// IP_HDRINCL, we set both so the bytes are correct on their own) and a 24-byte TCP header with one option,
/// MSS 1460 (RFC 9293 §3.1, §3.7.1): a SYN without options is dropped by some middleboxes.
/// </summary>
internal static class TcpPackets
{
    public const int IpHeaderBytes = 20;
    public const int TcpHeaderBytes = 24;
    public const int SynBytes = IpHeaderBytes + TcpHeaderBytes;
    public const ushort Window = 64240;
    public const ushort Mss = 1460;

    /// <summary>Writes the parts of a SYN that are the same for every probe of a scan.</summary>
    public static void WriteTemplate(Span<byte> packet, uint sourceIp, ushort sourcePort, byte ttl = 64)
    {
        packet[..SynBytes].Clear();
        packet[0] = 0x45; // version 4, header length 5 words
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], SynBytes);
        packet[8] = ttl;
        packet[9] = 6; // TCP
        BinaryPrimitives.WriteUInt32BigEndian(packet[12..], sourceIp);
        var tcp = packet[IpHeaderBytes..];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
        tcp[12] = (TcpHeaderBytes / 4) << 4;
        tcp[13] = (byte)TcpFlags.Syn;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], Window);
        tcp[20] = 2; // option kind: maximum segment size
        tcp[21] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[22..], Mss);
    }

    /// <summary>Fills in one probe's destination, sequence number, IP id and both checksums on a template.</summary>
    public static void CompleteSyn(Span<byte> packet, uint destinationIp, ushort destinationPort, uint sequence)
    {
        BinaryPrimitives.WriteUInt16BigEndian(packet[4..], (ushort)(sequence >> 16)); // IP id: varies, costs nothing
        BinaryPrimitives.WriteUInt32BigEndian(packet[16..], destinationIp);
        packet[10] = 0;
        packet[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(packet[10..], Checksum(0, packet[..IpHeaderBytes]));

        var tcp = packet.Slice(IpHeaderBytes, TcpHeaderBytes);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
        tcp[16] = 0;
        tcp[17] = 0;
        var sourceIp = BinaryPrimitives.ReadUInt32BigEndian(packet[12..]);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], Checksum(PseudoHeaderSum(sourceIp, destinationIp, TcpHeaderBytes), tcp));
    }

    /// <summary>Parses an IPv4 packet holding a TCP segment; false for anything else or anything truncated.</summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out TcpSegmentInfo segment)
    {
        segment = default;
        if (packet.Length < IpHeaderBytes || packet[0] >> 4 != 4 || packet[9] != 6)
        {
            return false;
        }

        var ipHeader = (packet[0] & 0x0F) * 4;
        // Fragments other than the first carry no TCP header (RFC 791 §3.2, fragment offset).
        if (ipHeader < IpHeaderBytes || packet.Length < ipHeader + 20 || (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x1FFF) != 0)
        {
            return false;
        }

        var tcp = packet[ipHeader..];
        segment = new TcpSegmentInfo(
            BinaryPrimitives.ReadUInt32BigEndian(packet[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(packet[16..]),
            BinaryPrimitives.ReadUInt16BigEndian(tcp),
            BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]),
            (TcpFlags)(tcp[13] & 0x3F));
        return true;
    }

    /// <summary>Verifies the TCP checksum of a parsed packet (tests; the receive path trusts the kernel).</summary>
    public static bool TcpChecksumValid(ReadOnlySpan<byte> packet)
    {
        var ipHeader = (packet[0] & 0x0F) * 4;
        var total = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        var tcp = packet[ipHeader..total];
        var sum = PseudoHeaderSum(BinaryPrimitives.ReadUInt32BigEndian(packet[12..]), BinaryPrimitives.ReadUInt32BigEndian(packet[16..]), tcp.Length);
        return Checksum(sum, tcp) == 0;
    }

    public static bool IpChecksumValid(ReadOnlySpan<byte> packet) => Checksum(0, packet[..((packet[0] & 0x0F) * 4)]) == 0;

    private static uint PseudoHeaderSum(uint sourceIp, uint destinationIp, int tcpLength)
        => (sourceIp >> 16) + (sourceIp & 0xFFFF) + (destinationIp >> 16) + (destinationIp & 0xFFFF) + 6u + (uint)tcpLength;

    /// <summary>The Internet checksum (RFC 1071): one's complement of the one's complement sum of 16-bit words.</summary>
    internal static ushort Checksum(uint initial, ReadOnlySpan<byte> data)
    {
        ulong sum = initial;
        var i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }

        // Fold the carries back in until the sum fits 16 bits.
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
