using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Contracts;

/// <summary>
/// The identity of one observation: the same observation sent twice (a resent batch, a replayed spool)
/// has the same identity, so ingest can be idempotent. Derived from the service key, the observation
/// time, the source, the scanner and the raw data; enrichment does not change it.
/// <para>Layout hashed with SHA-256 (big-endian integers, strings as u32 length + UTF-8):
/// ip, port (u32), transport (i32), timestamp seconds (i64), nanos (i32), source (i32), scanner, data length (i32), data.
/// The identity is the first 128 bits; its text form is 32 lower-case hex digits. Both reach disk, so the format
/// is append-only and a golden test pins it.</para>
/// </summary>
public static class RecordIdentity
{
    public static string Compute(ServiceRecord record) => ToText(ComputeValue(record));

    /// <summary>The identity as a number (no text allocation), for hot paths.</summary>
    public static UInt128 ComputeValue(ServiceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);

        // Everything before the data goes through one small buffer; the data is hashed where it lies. The hash
        // object is per thread and reset by each digest, so no native hash context is made per record.
        var headSize = 4 + Encoding.UTF8.GetMaxByteCount(record.Ip.Length) + 4 + 4 + 8 + 4 + 4 + 4 + Encoding.UTF8.GetMaxByteCount(record.Scanner.Length) + 4;
        byte[]? rented = null;
        var head = headSize <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(headSize));
        try
        {
            var at = 0;
            at += WriteString(head[at..], record.Ip);
            BinaryPrimitives.WriteUInt32BigEndian(head[at..], record.Port);
            at += 4;
            BinaryPrimitives.WriteInt32BigEndian(head[at..], (int)record.Transport);
            at += 4;
            BinaryPrimitives.WriteInt64BigEndian(head[at..], record.Timestamp?.Seconds ?? 0);
            at += 8;
            BinaryPrimitives.WriteInt32BigEndian(head[at..], record.Timestamp?.Nanos ?? 0);
            at += 4;
            BinaryPrimitives.WriteInt32BigEndian(head[at..], (int)record.Source);
            at += 4;
            at += WriteString(head[at..], record.Scanner);
            BinaryPrimitives.WriteInt32BigEndian(head[at..], record.Data.Length);
            at += 4;

            var sha = t_sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            sha.AppendData(head[..at]);
            sha.AppendData(record.Data.Span);
            Span<byte> digest = stackalloc byte[32];
            sha.GetHashAndReset(digest);
            return BinaryPrimitives.ReadUInt128BigEndian(digest);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    [ThreadStatic]
    private static IncrementalHash? t_sha256;

    public static string ToText(UInt128 identity)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, identity);
        return Convert.ToHexStringLower(bytes);
    }

    public static bool TryParse(string? text, out UInt128 identity)
    {
        identity = default;
        if (text is not { Length: 32 })
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (Convert.FromHexString(text, bytes, out _, out var written) != OperationStatus.Done || written != 16)
        {
            return false;
        }

        identity = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return true;
    }

    private static int WriteString(Span<byte> destination, string value)
    {
        var length = Encoding.UTF8.GetBytes(value, destination[4..]);
        BinaryPrimitives.WriteInt32BigEndian(destination, length);
        return 4 + length;
    }
}
