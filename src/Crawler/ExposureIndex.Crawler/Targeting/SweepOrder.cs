using System.Globalization;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// Which part of a sweep one replica does: shard <see cref="Index"/> of <see cref="Count"/> (0-based, as a
/// StatefulSet's pod ordinal is). Text form <c>K/N</c>.
/// </summary>
internal readonly record struct ShardSpec(int Index, int Count)
{
    public const int MaxShards = 65_536;

    public static ShardSpec Single { get; } = new(0, 1);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    /// <summary>Parses <c>K/N</c> with 0 &lt;= K &lt; N &lt;= <see cref="MaxShards"/>; an expected miss, so no exception.</summary>
    public static bool TryParse(string? text, out ShardSpec shard, out string error)
    {
        shard = Single;
        error = string.Empty;
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (text is null || slash <= 0 || slash == text.Length - 1)
        {
            error = $"'{text}' is not K/N (shard K of N, 0-based, e.g. 0/4)";
            return false;
        }

        if (!int.TryParse(text.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            error = $"'{text}' is not K/N with decimal K and N";
            return false;
        }

        if (count is < 1 or > MaxShards)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"shard count {count} must be 1-{MaxShards}");
            return false;
        }

        if (index >= count)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"shard index {index} must be below the shard count {count} (shards are 0-based)");
            return false;
        }

        shard = new ShardSpec(index, count);
        return true;
    }
}

/// <summary>
/// The order one shard visits a <see cref="TargetSpace"/>: global position p of the seeded permutation visits
/// index <c>permutation[p]</c>, and shard K of N takes the positions p = K, K + N, K + 2N, ... (zmap's
/// interleaved sharding). Every shard of the same seed and space therefore gets a disjoint slice, the slices
/// together are the whole space, and each slice is itself spread over the whole space.
/// A shard's progress is one number, its local position, which is what the checkpoint stores.
/// </summary>
internal sealed class SweepOrder
{
    public SweepOrder(TargetSpace space, ulong seed, ShardSpec shard)
    {
        ArgumentNullException.ThrowIfNull(space);
        if (shard.Count < 1 || shard.Index < 0 || shard.Index >= shard.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(shard), shard, "shard index must be 0 <= K < N");
        }

        Space = space;
        Shard = shard;
        Permutation = new IndexPermutation(space.Count, seed);
        var n = (ulong)shard.Count;
        var k = (ulong)shard.Index;
        Count = space.Count > k ? ((space.Count - k - 1) / n) + 1 : 0;
    }

    public TargetSpace Space { get; }

    public ShardSpec Shard { get; }

    public ulong Seed => Permutation.Seed;

    public IndexPermutation Permutation { get; }

    /// <summary>Positions in this shard.</summary>
    public ulong Count { get; }

    /// <summary>The global permutation position of local position <paramref name="local"/>.</summary>
    public ulong GlobalPosition(ulong local) => (local * (ulong)Shard.Count) + (ulong)Shard.Index;

    /// <summary>The space index this shard visits at local position <paramref name="local"/>.</summary>
    public ulong IndexAt(ulong local)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(local, Count);
        return Permutation[GlobalPosition(local)];
    }

    public ScanTriple this[ulong local] => Space[IndexAt(local)];

    /// <summary>The triples from <paramref name="from"/> (a resumed position) to the end, in order.</summary>
    public IEnumerable<ScanTriple> Enumerate(ulong from = 0)
    {
        for (var local = from; local < Count; local++)
        {
            yield return this[local];
        }
    }
}
