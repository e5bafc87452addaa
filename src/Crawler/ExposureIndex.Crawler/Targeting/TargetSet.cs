using System.Net;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// Targets as sorted, merged ranges (IPv4 before IPv6) with prefix counts, so the i-th address is a binary search
/// away. Index-addressable on purpose: the sharded permutation of the next issue maps integers to addresses.
/// </summary>
internal sealed class TargetSet
{
    private readonly AddressRange[] _ranges;
    private readonly UInt128[] _starts; // addresses before each range

    private TargetSet(AddressRange[] ranges)
    {
        _ranges = ranges;
        _starts = new UInt128[ranges.Length];
        UInt128 total = 0;
        for (var i = 0; i < ranges.Length; i++)
        {
            _starts[i] = total;
            total += ranges[i].Count;
        }

        TotalAddresses = total;
    }

    public static TargetSet Empty { get; } = new([]);

    public IReadOnlyList<AddressRange> Ranges => _ranges;

    public UInt128 TotalAddresses { get; }

    public bool IsEmpty => _ranges.Length == 0;

    public static TargetSet From(IEnumerable<AddressRange> ranges)
    {
        var sorted = ranges.ToList();
        sorted.Sort();
        var merged = new List<AddressRange>(sorted.Count);
        foreach (var range in sorted)
        {
            if (merged.Count > 0)
            {
                var last = merged[^1];
                if (last.Family == range.Family && (range.First <= last.Last || range.First == last.Last + 1))
                {
                    merged[^1] = last with { Last = range.Last > last.Last ? range.Last : last.Last };
                    continue;
                }
            }

            merged.Add(range);
        }

        return new TargetSet([.. merged]);
    }

    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var key = AddressRange.ToKey(address);
        return _ranges.Any(r => r.Family == address.AddressFamily && r.Contains(key));
    }

    /// <summary>The <paramref name="index"/>-th address in ascending order.</summary>
    public IPAddress this[UInt128 index]
    {
        get
        {
            if (index >= TotalAddresses)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"the target set holds {TotalAddresses} addresses");
            }

            var pos = Array.BinarySearch(_starts, index);
            if (pos < 0)
            {
                pos = ~pos - 1;
            }

            var range = _ranges[pos];
            return AddressRange.ToAddress(range.Family, range.First + (index - _starts[pos]));
        }
    }
}
