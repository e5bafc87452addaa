using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace ExposureIndex.Crawler.Discovery;

/// <summary>
/// masscan-style SYN cookies: the initial sequence number of each probe is a keyed hash of its 4-tuple, so a
/// reply is recognised as ours without keeping any state: a SYN-ACK or RST answering our SYN acknowledges
/// cookie + 1 (RFC 9293 §3.4: the ACK of a SYN is its sequence number plus one). The hash is SipHash-2-4
/// (Aumasson and Bernstein, 2012) with a random 128-bit key per scan, so off-path hosts cannot forge "open"
/// answers and replies from an earlier scan do not count.
/// </summary>
internal sealed class SynCookie
{
    private readonly ulong _k0;
    private readonly ulong _k1;

    public SynCookie(ulong k0, ulong k1)
    {
        _k0 = k0;
        _k1 = k1;
    }

    public static SynCookie Random()
    {
        Span<byte> key = stackalloc byte[16];
        RandomNumberGenerator.Fill(key);
        return new SynCookie(BinaryPrimitives.ReadUInt64LittleEndian(key), BinaryPrimitives.ReadUInt64LittleEndian(key[8..]));
    }

    /// <summary>The sequence number of our SYN from (srcIp, srcPort) to (dstIp, dstPort), IPv4 addresses as host-order integers.</summary>
    public uint Compute(uint sourceIp, ushort sourcePort, uint destinationIp, ushort destinationPort)
    {
        // One 64-bit word for the addresses and one for the ports: the input is exactly 16 bytes.
        var m0 = ((ulong)sourceIp << 32) | destinationIp;
        var m1 = ((ulong)sourcePort << 16) | destinationPort;
        var hash = SipHash24(m0, m1);
        return (uint)(hash ^ (hash >> 32));
    }

    /// <summary>True when <paramref name="acknowledgement"/> answers our SYN of this 4-tuple (given from our side).</summary>
    public bool Verify(uint sourceIp, ushort sourcePort, uint destinationIp, ushort destinationPort, uint acknowledgement)
        => acknowledgement == unchecked(Compute(sourceIp, sourcePort, destinationIp, destinationPort) + 1);

    /// <summary>SipHash-2-4 of two 64-bit little-endian words (a 16-byte message).</summary>
    private ulong SipHash24(ulong m0, ulong m1)
    {
        var v0 = _k0 ^ 0x736f6d6570736575UL;
        var v1 = _k1 ^ 0x646f72616e646f6dUL;
        var v2 = _k0 ^ 0x6c7967656e657261UL;
        var v3 = _k1 ^ 0x7465646279746573UL;
        Compress(ref v0, ref v1, ref v2, ref v3, m0);
        Compress(ref v0, ref v1, ref v2, ref v3, m1);
        // Final block: message length (16) in the top byte, no remaining bytes.
        Compress(ref v0, ref v1, ref v2, ref v3, 16UL << 56);
        v2 ^= 0xff;
        for (var i = 0; i < 4; i++)
        {
            Round(ref v0, ref v1, ref v2, ref v3);
        }

        return v0 ^ v1 ^ v2 ^ v3;
    }

    private static void Compress(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3, ulong m)
    {
        v3 ^= m;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= m;
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1;
        v1 = BitOperations.RotateLeft(v1, 13);
        v1 ^= v0;
        v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3;
        v3 = BitOperations.RotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = BitOperations.RotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = BitOperations.RotateLeft(v1, 17);
        v1 ^= v2;
        v2 = BitOperations.RotateLeft(v2, 32);
    }

    /// <summary>SipHash-2-4 over arbitrary bytes; used by the tests to check <see cref="SipHash24(ulong, ulong)"/> against the paper's vectors.</summary>
    internal static ulong SipHash24(ulong k0, ulong k1, ReadOnlySpan<byte> message)
    {
        var v0 = k0 ^ 0x736f6d6570736575UL;
        var v1 = k1 ^ 0x646f72616e646f6dUL;
        var v2 = k0 ^ 0x6c7967656e657261UL;
        var v3 = k1 ^ 0x7465646279746573UL;
        var full = message.Length / 8 * 8;
        for (var i = 0; i < full; i += 8)
        {
            Compress(ref v0, ref v1, ref v2, ref v3, BinaryPrimitives.ReadUInt64LittleEndian(message[i..]));
        }

        var last = (ulong)(message.Length & 0xFF) << 56;
        for (var i = 0; i < message.Length - full; i++)
        {
            last |= (ulong)message[full + i] << (8 * i);
        }

        Compress(ref v0, ref v1, ref v2, ref v3, last);
        v2 ^= 0xff;
        for (var i = 0; i < 4; i++)
        {
            Round(ref v0, ref v1, ref v2, ref v3);
        }

        return v0 ^ v1 ^ v2 ^ v3;
    }

    /// <summary>The fixed-key path equals the general one on the same 16 bytes (tests use this).</summary>
    internal ulong HashWords(ulong m0, ulong m1) => SipHash24(m0, m1);
}
