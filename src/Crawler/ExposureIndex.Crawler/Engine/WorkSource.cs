using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Engine;

/// <summary>
/// Hands out scan targets to the workers, each exactly once; thread-safe. The seam for the next issue's
/// seeded, sharded permutation (and its checkpoint): workers only ever call <see cref="TryTake"/>.
/// </summary>
internal interface IWorkSource
{
    /// <summary>Total targets this source will hand out.</summary>
    ulong Count { get; }

    /// <summary>Targets handed out so far.</summary>
    ulong Taken { get; }

    bool TryTake(out ScanTarget target);
}

/// <summary>Visits the scan space in index order.</summary>
internal sealed class SequentialWorkSource(ScanSpace space) : IWorkSource
{
    private long _next = -1;

    public ulong Count => space.Count;

    public ulong Taken => Math.Min((ulong)(Interlocked.Read(ref _next) + 1), space.Count);

    public bool TryTake(out ScanTarget target)
    {
        var index = (ulong)Interlocked.Increment(ref _next);
        if (index >= space.Count)
        {
            // Undo so the counter cannot creep towards overflow however often idle workers ask.
            Interlocked.Decrement(ref _next);
            target = default;
            return false;
        }

        target = space[index];
        return true;
    }
}

/// <summary>The TCP pairs, then the UDP pairs, each handed out once; thread-safe.</summary>
internal sealed class TransportWorkSource(IWorkSource tcp, IWorkSource udp)
{
    public ulong Count => tcp.Count + udp.Count;

    public bool TryTake(out ScanTarget target, out ExposureIndex.Contracts.V1.Transport transport)
    {
        if (tcp.TryTake(out target))
        {
            transport = ExposureIndex.Contracts.V1.Transport.Tcp;
            return true;
        }

        transport = ExposureIndex.Contracts.V1.Transport.Udp;
        return udp.TryTake(out target);
    }
}
