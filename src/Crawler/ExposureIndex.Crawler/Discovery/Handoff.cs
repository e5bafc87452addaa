using System.Net.Sockets;
using System.Runtime.InteropServices;
using ExposureIndex.Crawler.RateLimiting;

namespace ExposureIndex.Crawler.Discovery;

/// <summary>
/// What discovery hands to identification along with an open port (or a target it cannot probe itself): the
/// connected socket, so an open port is connected once and not twice, and the slots the target holds - one of
/// the crawl's <see cref="ConnectionBudget"/> and one of its network's cap - which stay taken until
/// identification is over. Dispose exactly once, on whichever side ends up with it: it closes a socket nobody
/// took (with an RST, as discovery would have) and frees the slots.
/// </summary>
internal sealed class Handoff : IDisposable
{
    private int _fd = -1;
    private Socket? _socket;
    private NetworkConcurrencyLimiter.Lease _lease;
    private ConnectionBudget? _budget;
    private int _disposed;

    private Handoff()
    {
    }

    /// <summary>A connected non-blocking socket descriptor from the epoll engine; the handoff owns it now.</summary>
    public static Handoff ForDescriptor(int fd, NetworkConcurrencyLimiter.Lease lease, bool holdsLease, ConnectionBudget? budget)
        => new() { _fd = fd, _lease = lease, HoldsLease = holdsLease, _budget = budget };

    /// <summary>A connected managed socket from the portable connect scanner; the handoff owns it now.</summary>
    public static Handoff ForSocket(Socket socket, NetworkConcurrencyLimiter.Lease lease, bool holdsLease, ConnectionBudget? budget)
        => new() { _socket = socket, _lease = lease, HoldsLease = holdsLease, _budget = budget };

    /// <summary>No connection, only a budget slot (a UDP target, which identification probes itself).</summary>
    public static Handoff ForSlot(ConnectionBudget? budget) => new() { _budget = budget };

    public bool HasConnection => _fd >= 0 || _socket is not null;

    public bool HoldsBudget => _budget is not null;

    public bool HoldsLease { get; private set; }

    /// <summary>Records a budget slot taken later (by identification, for targets discovery did not hold one for).</summary>
    public void Attach(ConnectionBudget budget)
    {
        ArgumentNullException.ThrowIfNull(budget);
        if (_budget is not null)
        {
            throw new InvalidOperationException("the handoff already holds a budget slot");
        }

        _budget = budget;
    }

    /// <summary>Records a network slot taken later.</summary>
    public void Attach(NetworkConcurrencyLimiter.Lease lease)
    {
        if (HoldsLease)
        {
            throw new InvalidOperationException("the handoff already holds a network slot");
        }

        _lease = lease;
        HoldsLease = true;
    }

    /// <summary>The connection as a managed socket; the caller owns it from here (the slots stay with the handoff).</summary>
    public Socket TakeSocket()
    {
        if (_socket is { } socket)
        {
            _socket = null;
            return socket;
        }

        if (_fd < 0)
        {
            throw new InvalidOperationException("the handoff holds no connection (or it was taken already)");
        }

        var fd = _fd;
        _fd = -1;
        // Back to blocking mode before the runtime adopts it: the Socket believes a new handle blocks, and it
        // switches the descriptor to non-blocking itself for its asynchronous operations.
        var flags = LinuxSockets.fcntl(fd, LinuxSockets.FGetFl, 0);
        if (flags >= 0)
        {
            _ = LinuxSockets.fcntl(fd, LinuxSockets.FSetFl, flags & ~LinuxSockets.ONonBlock);
        }

        try
        {
            return new Socket(new SafeSocketHandle(fd, ownsHandle: true)) { NoDelay = true };
        }
        catch (SocketException)
        {
            _ = LinuxSockets.close(fd);
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_fd >= 0)
        {
            LinuxSockets.Abort(_fd);
            _fd = -1;
        }

        if (_socket is { } socket)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (SocketException)
            {
                // Already reset by the peer: closing is all that is left.
            }

            socket.Dispose();
            _socket = null;
        }

        _lease.Dispose();
        _budget?.Release();
        _budget = null;
    }
}
