using System.Net.Sockets;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// Every (ip, port, transport) triple of a plan as one integer range [0, Count): index i is address i mod A and
/// port slot i div A, the TCP ports first and the UDP ports after them. Consecutive indexes differ in address,
/// but a sweep never walks them in order: <see cref="SweepOrder"/> permutes them.
/// </summary>
internal sealed class TargetSpace
{
    private readonly AddressRange[] _ranges;
    private readonly UInt128[] _starts;
    private readonly ulong _addresses;
    private readonly int _tcpCount;

    public TargetSpace(TargetSet targets, PortSpec ports)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(ports);
        var slots = (uint)(ports.Tcp.Count + ports.Udp.Count);
        var total = targets.TotalAddresses * slots;
        if (targets.TotalAddresses > ulong.MaxValue || total > ulong.MaxValue)
        {
            throw new ArgumentException($"{targets.TotalAddresses} addresses x {slots} ports do not fit a 64-bit index; split the scan", nameof(targets));
        }

        Targets = targets;
        Ports = ports;
        Count = (ulong)total;
        _addresses = (ulong)targets.TotalAddresses;
        _tcpCount = ports.Tcp.Count;
        _ranges = [.. targets.Ranges];
        _starts = new UInt128[_ranges.Length];
        UInt128 before = 0;
        for (var i = 0; i < _ranges.Length; i++)
        {
            _starts[i] = before;
            before += _ranges[i].Count;
        }
    }

    public TargetSet Targets { get; }

    public PortSpec Ports { get; }

    public ulong Count { get; }

    public ulong Addresses => _addresses;

    public ScanTriple this[ulong index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            var addressIndex = index % _addresses;
            var slot = (int)(index / _addresses);
            var (family, key) = AddressAt(addressIndex);
            return slot < _tcpCount
                ? new ScanTriple(family, key, Ports.Tcp[slot], Transport.Tcp)
                : new ScanTriple(family, key, Ports.Udp[slot - _tcpCount], Transport.Udp);
        }
    }

    private (AddressFamily Family, UInt128 Key) AddressAt(ulong index)
    {
        var lo = 0;
        var hi = _starts.Length - 1;
        // Last range whose start is <= index.
        while (lo < hi)
        {
            var mid = (lo + hi + 1) >>> 1;
            if (_starts[mid] <= index)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        var range = _ranges[lo];
        return (range.Family, range.First + (index - _starts[lo]));
    }
}
