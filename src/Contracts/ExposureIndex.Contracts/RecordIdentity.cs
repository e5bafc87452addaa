using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Contracts;

/// <summary>
/// The identity of one observation: the same observation sent twice (a resent batch, a replayed spool)
/// has the same identity, so ingest can be idempotent. Derived from the service key, the observation
/// time, the source and the raw data; enrichment does not change it.
/// The format (32 lower-case hex digits, SHA-256 truncated to 128 bits over the layout below) reaches
/// disk and is append-only: a golden test pins it.
/// </summary>
public static class RecordIdentity
{
    public static string Compute(ServiceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> scratch = stackalloc byte[8];

        AppendString(hash, record.Ip, scratch);
        BinaryPrimitives.WriteUInt32BigEndian(scratch, record.Port);
        hash.AppendData(scratch[..4]);
        BinaryPrimitives.WriteInt32BigEndian(scratch, (int)record.Transport);
        hash.AppendData(scratch[..4]);
        var ts = record.Timestamp;
        BinaryPrimitives.WriteInt64BigEndian(scratch, ts?.Seconds ?? 0);
        hash.AppendData(scratch);
        BinaryPrimitives.WriteInt32BigEndian(scratch, ts?.Nanos ?? 0);
        hash.AppendData(scratch[..4]);
        BinaryPrimitives.WriteInt32BigEndian(scratch, (int)record.Source);
        hash.AppendData(scratch[..4]);
        AppendString(hash, record.Scanner, scratch);
        BinaryPrimitives.WriteInt32BigEndian(scratch, record.Data.Length);
        hash.AppendData(scratch[..4]);
        hash.AppendData(record.Data.Span);

        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest[..16]);
    }

    private static void AppendString(IncrementalHash hash, string value, Span<byte> scratch)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteInt32BigEndian(scratch, bytes.Length);
        hash.AppendData(scratch[..4]);
        hash.AppendData(bytes);
    }
}
