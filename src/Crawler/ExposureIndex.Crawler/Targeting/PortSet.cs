using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>An inclusive range of port numbers.</summary>
internal readonly record struct PortRange(int First, int Last)
{
    public int Count => Last - First + 1;

    public override string ToString() => First == Last
        ? First.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{First}-{Last}");
}

/// <summary>
/// A normalised set of ports: sorted, merged ranges with prefix counts, so the i-th port is found by binary search.
/// Index-addressable on purpose: a scan visits (address index, port index) pairs, and the permutation of the
/// next issue maps one integer onto that pair.
/// </summary>
internal sealed class PortSet
{
    private readonly ImmutableArray<PortRange> _ranges;
    private readonly int[] _starts; // number of ports before each range

    public static readonly PortSet Empty = new([]);

    private PortSet(ImmutableArray<PortRange> ranges)
    {
        _ranges = ranges;
        _starts = new int[ranges.Length];
        var total = 0;
        for (var i = 0; i < ranges.Length; i++)
        {
            _starts[i] = total;
            total += ranges[i].Count;
        }

        Count = total;
    }

    public ImmutableArray<PortRange> Ranges => _ranges;

    public int Count { get; }

    public bool IsEmpty => Count == 0;

    public static PortSet From(IEnumerable<PortRange> ranges)
    {
        var sorted = ranges.OrderBy(r => r.First).ThenBy(r => r.Last).ToList();
        var merged = ImmutableArray.CreateBuilder<PortRange>(sorted.Count);
        foreach (var range in sorted)
        {
            if (merged.Count > 0 && range.First <= merged[^1].Last + 1)
            {
                var last = merged[^1];
                merged[^1] = last with { Last = Math.Max(last.Last, range.Last) };
            }
            else
            {
                merged.Add(range);
            }
        }

        return new PortSet(merged.ToImmutable());
    }

    public static PortSet Of(params int[] ports) => From(ports.Select(p => new PortRange(p, p)));

    public bool Contains(int port)
    {
        var lo = 0;
        var hi = _ranges.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var range = _ranges[mid];
            if (port < range.First)
            {
                hi = mid - 1;
            }
            else if (port > range.Last)
            {
                lo = mid + 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The <paramref name="index"/>-th port in ascending order.</summary>
    public int this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            var pos = Array.BinarySearch(_starts, index);
            if (pos < 0)
            {
                pos = ~pos - 1;
            }

            return _ranges[pos].First + (index - _starts[pos]);
        }
    }

    public IEnumerable<int> Enumerate()
    {
        foreach (var range in _ranges)
        {
            for (var port = range.First; port <= range.Last; port++)
            {
                yield return port;
            }
        }
    }

    /// <summary>Canonical nmap-style text, e.g. <c>22,80,8000-8100</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var range in _ranges)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(range.ToString());
        }

        return text.ToString();
    }
}

/// <summary>Ports by transport, as an nmap <c>-p</c> specification gives them.</summary>
internal sealed record PortSpec(PortSet Tcp, PortSet Udp)
{
    public override string ToString()
    {
        if (Udp.IsEmpty)
        {
            return Tcp.ToString();
        }

        return Tcp.IsEmpty ? $"U:{Udp}" : $"T:{Tcp},U:{Udp}";
    }
}
