using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;

namespace ExposureIndex.Contracts;

/// <summary>
/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected 0x82F63B78), as used by iSCSI (RFC 3720 §B.4) and
/// most log formats. Guards every framed record we write to disk (spool, stores). Uses SSE4.2 when present.
/// System.IO.Hashing is not on this machine's NuGet mirror, hence our own.
/// </summary>
public static class Crc32C
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC over more data: Append(Append(0, a), b) == Compute(a + b).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var c = ~crc;
        if (Sse42.X64.IsSupported)
        {
            ulong c64 = c;
            while (data.Length >= 8)
            {
                c64 = Sse42.X64.Crc32(c64, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }

            c = (uint)c64;
        }

        foreach (var b in data)
        {
            c = Sse42.IsSupported ? Sse42.Crc32(c, b) : Table[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        return ~c;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x82F63B78 ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
