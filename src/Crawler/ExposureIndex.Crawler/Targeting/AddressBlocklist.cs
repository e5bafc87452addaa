using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// A blocklist: rules (range, category, reason) compiled into one <see cref="IntervalMap{TValue}"/> per address
/// family. Lookups are binary searches; splitting a target range walks only the rules that overlap it.
/// The same type will hold the operator's <c>--exclude FILE</c> entries (category Excluded).
/// </summary>
internal sealed class AddressBlocklist
{
    private readonly IntervalMap<BlockRule> _v4;
    private readonly IntervalMap<BlockRule> _v6;

    public AddressBlocklist(IEnumerable<BlockRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        Rules = [.. rules];
        _v4 = Compile(Rules, AddressFamily.InterNetwork);
        _v6 = Compile(Rules, AddressFamily.InterNetworkV6);
    }

    public static AddressBlocklist SpecialPurpose { get; } = new(SpecialPurposeRanges.All);

    public IReadOnlyList<BlockRule> Rules { get; }

    public AddressBlocklist With(IEnumerable<BlockRule> extra) => new(Rules.Concat(extra));

    public bool TryFind(IPAddress address, [NotNullWhen(true)] out BlockRule? rule)
    {
        ArgumentNullException.ThrowIfNull(address);
        return TryFind(address.AddressFamily, AddressRange.ToKey(address), out rule);
    }

    public bool TryFind(AddressFamily family, UInt128 key, [NotNullWhen(true)] out BlockRule? rule)
    {
        var found = MapFor(family).TryFind(key, out var value);
        rule = found ? value : null;
        return found;
    }

    /// <summary>
    /// Cuts <paramref name="range"/> into consecutive pieces, each either unblocked (rule null) or blocked by one
    /// rule. Bounded by the number of rules overlapping the range.
    /// </summary>
    public IEnumerable<(AddressRange Piece, BlockRule? Rule)> Split(AddressRange range)
    {
        var map = MapFor(range.Family);
        var cursor = range.First;
        for (var i = map.FirstEndingAtOrAfter(range.First); i < map.Count; i++)
        {
            var (first, last, rule) = map[i];
            if (first > range.Last)
            {
                break;
            }

            if (first > cursor)
            {
                yield return (range with { First = cursor, Last = first - 1 }, null);
            }

            var pieceFirst = first > cursor ? first : cursor;
            var pieceLast = last < range.Last ? last : range.Last;
            yield return (range with { First = pieceFirst, Last = pieceLast }, rule);
            if (pieceLast == range.Last)
            {
                yield break;
            }

            cursor = pieceLast + 1;
        }

        yield return (range with { First = cursor }, null);
    }

    private IntervalMap<BlockRule> MapFor(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => _v4,
        AddressFamily.InterNetworkV6 => _v6,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "only IPv4 and IPv6 addresses are scanned"),
    };

    private static IntervalMap<BlockRule> Compile(IEnumerable<BlockRule> rules, AddressFamily family)
        => IntervalMap<BlockRule>.Build(
            [.. rules.Where(r => r.Family == family).Select(r => (r.Range.First, r.Range.Last, r))],
            AddressRange.MaxValue(family));
}
