using System.Net;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>One unit of work: a TCP port on one address.</summary>
internal readonly record struct ScanTarget(IPAddress Address, int Port)
{
    public override string ToString() => Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        ? $"[{Address}]:{Port}"
        : $"{Address}:{Port}";
}

/// <summary>
/// The product addresses x ports as one integer range [0, Count). Index i maps to address i mod A and port
/// i div A, so consecutive indexes visit different hosts (one port across all hosts, then the next port),
/// which spreads load. An order over this range (sequential now, zmap's cyclic-group permutation next) is a
/// separate concern: see <see cref="IWorkSource"/>.
/// </summary>
internal sealed class ScanSpace
{
    public ScanSpace(TargetSet targets, PortSet ports)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(ports);
        var total = targets.TotalAddresses * (UInt128)(uint)ports.Count;
        if (total > ulong.MaxValue)
        {
            throw new ArgumentException($"{targets.TotalAddresses} addresses x {ports.Count} ports do not fit a 64-bit index", nameof(targets));
        }

        Targets = targets;
        Ports = ports;
        Count = (ulong)total;
        _addresses = (ulong)targets.TotalAddresses;
    }

    private readonly ulong _addresses;

    public TargetSet Targets { get; }

    public PortSet Ports { get; }

    public ulong Count { get; }

    public ScanTarget this[ulong index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return new ScanTarget(Targets[index % _addresses], Ports[(int)(index / _addresses)]);
        }
    }
}
