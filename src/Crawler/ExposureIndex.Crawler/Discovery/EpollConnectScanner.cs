using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.RateLimiting;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Discovery;

/// <summary>
/// The connect scan on Linux, at the speed of the system calls: one thread per core, each with its own epoll
/// instance and a fixed number of slots, starts non-blocking connects (socket, connect: EINPROGRESS), waits for
/// them all at once with epoll_wait, reads each outcome with getsockopt(SO_ERROR) and closes the socket (an open
/// one with SO_LINGER 0, so the target gets an RST and we keep no TIME_WAIT). Connects past their timeout are
/// closed and reported filtered; slots are reused in start order, so the oldest is always the first to expire.
/// The global rate limit is taken one reserved permit at a time; the per-network cap never blocks a thread:
/// a target whose network is full waits in a small per-thread queue while other targets go ahead.
/// Same contract as <see cref="ConnectScanner"/>, which remains the portable path: with a <see cref="ConnectionBudget"/>
/// each connect holds one of its slots (taken without blocking; a thread whose budget is spent waits in epoll_wait), and
/// with <see cref="ConnectScanOptions.HandOff"/> an open descriptor leaves the epoll set and goes to the receiver with
/// its slots instead of being reset.
/// </summary>
internal sealed class EpollConnectScanner(ConnectScanOptions options, TokenBucket? rate, NetworkConcurrencyLimiter? networks, TimeProvider time, ConnectionBudget? budget = null)
{
    public static bool IsSupported => OperatingSystem.IsLinux();

    private ConnectScanOptions Options { get; } = options;

    private TokenBucket? Rate { get; } = rate;

    private NetworkConcurrencyLimiter? Networks { get; } = networks;

    private TimeProvider Time { get; } = time;

    private ConnectionBudget? Budget { get; } = budget;

    public DiscoveryCounters Counters { get; } = new();

    public Task RunAsync(SweepCursor cursor, Action<DiscoveryResult> onResult, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        ArgumentNullException.ThrowIfNull(onResult);
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("the epoll connect engine runs on Linux; use ConnectScanner elsewhere");
        }

        var threads = Math.Clamp(Environment.ProcessorCount, 1, Math.Max(1, Options.Concurrency));
        var perThread = Math.Max(1, Options.Concurrency / threads);
        var tasks = Enumerable.Range(0, threads)
            .Select(_ => Task.Factory.StartNew(() => new Worker(this, cursor, onResult, perThread).Run(stop), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default))
            .ToArray();
        return Task.WhenAll(tasks);
    }

    private sealed class Worker
    {
        private readonly EpollConnectScanner _owner;
        private readonly SweepCursor _cursor;
        private readonly Action<DiscoveryResult> _onResult;
        private readonly int _slots;
        private readonly int[] _fd;
        private readonly ulong[] _position;
        private readonly ScanTriple[] _target;
        private readonly long[] _deadline;
        private readonly NetworkConcurrencyLimiter.Lease[] _lease;
        private readonly Stack<int> _free = new();
        private readonly int[] _generation;
        private readonly Queue<(int Slot, int Generation)> _byStart = new();
        private readonly Queue<(ulong Position, ScanTriple Target)> _deferred = new();
        private readonly byte[] _address = new byte[28];
        private readonly byte[] _event;
        private readonly byte[] _events;
        private readonly byte[] _linger = new byte[8];
        private readonly long _timeoutTicks;
        private long? _permitAt;
        private bool _holdsSlot;
        private int _epoll = -1;
        private int _outstanding;
        private bool _exhausted;

        public Worker(EpollConnectScanner owner, SweepCursor cursor, Action<DiscoveryResult> onResult, int slots)
        {
            _owner = owner;
            _cursor = cursor;
            _onResult = onResult;
            _slots = slots;
            _fd = new int[slots];
            _position = new ulong[slots];
            _target = new ScanTriple[slots];
            _deadline = new long[slots];
            _lease = new NetworkConcurrencyLimiter.Lease[slots];
            _generation = new int[slots];
            for (var i = slots - 1; i >= 0; i--)
            {
                _fd[i] = -1;
                _free.Push(i);
            }

            _event = new byte[LinuxSockets.EpollEventSize];
            _events = new byte[LinuxSockets.EpollEventSize * slots];
            BinaryPrimitives.WriteInt32LittleEndian(_linger, 1); // l_onoff = 1, l_linger = 0: close sends RST
            _timeoutTicks = (long)(owner.Options.ConnectTimeout.TotalSeconds * owner.Time.TimestampFrequency);
        }

        public void Run(CancellationToken stop)
        {
            _epoll = LinuxSockets.epoll_create1(LinuxSockets.EpollCloexec);
            if (_epoll < 0)
            {
                throw new InvalidOperationException($"epoll_create1 failed (errno {Marshal.GetLastPInvokeError()})");
            }

            try
            {
                // Bounded: the cursor is finite; every started connect ends by event or by its deadline.
                while (true)
                {
                    var waitMs = Fill(stop);
                    // Stopping drains: no new positions, but connects in flight and targets already taken (deferred
                    // for their network's cap) are finished, so the checkpoint's low-water mark reaches all taken work.
                    if (_outstanding == 0 && _deferred.Count == 0 && (_exhausted || stop.IsCancellationRequested))
                    {
                        return;
                    }

                    var ready = LinuxSockets.epoll_wait(_epoll, _events, _slots, _outstanding == 0 ? Math.Min(waitMs, 10) : waitMs);
                    if (ready < 0 && Marshal.GetLastPInvokeError() != LinuxSockets.EIntr)
                    {
                        throw new InvalidOperationException($"epoll_wait failed (errno {Marshal.GetLastPInvokeError()})");
                    }

                    for (var i = 0; i < ready; i++)
                    {
                        var slot = (int)BinaryPrimitives.ReadUInt64LittleEndian(_events.AsSpan((i * LinuxSockets.EpollEventSize) + 4));
                        if (_fd[slot] < 0)
                        {
                            continue;
                        }

                        var error = 0;
                        var length = sizeof(int);
                        var errno = LinuxSockets.getsockopt(_fd[slot], LinuxSockets.SolSocket, LinuxSockets.SoError, ref error, ref length) == 0
                            ? error
                            : Marshal.GetLastPInvokeError();
                        Finish(slot, LinuxSockets.Classify(errno), errno);
                    }

                    Expire();
                }
            }
            finally
            {
                // Abandoned on an exception: close what is still open, report nothing (the positions stay unfinished).
                for (var slot = 0; slot < _slots; slot++)
                {
                    if (_fd[slot] >= 0)
                    {
                        _ = LinuxSockets.close(_fd[slot]);
                        _fd[slot] = -1;
                        _lease[slot].Dispose();
                        _owner.Budget?.Release();
                    }
                }

                ReleaseHeldSlot();
                _ = LinuxSockets.close(_epoll);
            }
        }

        /// <summary>Starts connects while slots, permits and targets allow; returns how long epoll may wait (ms).</summary>
        private int Fill(CancellationToken stop)
        {
            var waitMs = 50;
            // Bounded: each pass uses a free slot, hands a target over or defers one, and stops at the first shortage.
            while (_free.Count > 0 && (!stop.IsCancellationRequested || _deferred.Count > 0))
            {
                if (_owner.Budget is { } budget && !_holdsSlot)
                {
                    if (!budget.TryAcquire())
                    {
                        // Identification holds the whole budget: look again shortly (slots free as targets finish).
                        waitMs = Math.Min(waitMs, 2);
                        break;
                    }

                    _holdsSlot = true;
                }

                if (_owner.Rate is not null)
                {
                    var now = _owner.Time.GetTimestamp();
                    _permitAt ??= now + (long)(_owner.Rate.Reserve().TotalSeconds * _owner.Time.TimestampFrequency);
                    if (_permitAt > now)
                    {
                        waitMs = Math.Min(waitMs, Math.Max(1, (int)Math.Ceiling((_permitAt.Value - now) * 1000.0 / _owner.Time.TimestampFrequency)));
                        break;
                    }
                }

                var next = TryNext(stop.IsCancellationRequested, out var position, out var target, out var lease);
                if (next == Next.HandedOver)
                {
                    // A UDP target went to identification with this permit and budget slot.
                    _permitAt = null;
                    continue;
                }

                if (next == Next.None)
                {
                    break;
                }

                _permitAt = null;
                Start(position, target, lease);
            }

            if (_outstanding == 0 && _deferred.Count == 0 && (_exhausted || stop.IsCancellationRequested))
            {
                // Nothing more will start here: give the held budget slot back for identification.
                ReleaseHeldSlot();
            }

            if (TryPeekOldest(out var oldest))
            {
                var untilExpiry = _deadline[oldest] - _owner.Time.GetTimestamp();
                waitMs = Math.Min(waitMs, Math.Max(0, (int)Math.Ceiling(untilExpiry * 1000.0 / _owner.Time.TimestampFrequency)));
            }

            return waitMs;
        }

        private void ReleaseHeldSlot()
        {
            if (_holdsSlot)
            {
                _holdsSlot = false;
                _owner.Budget!.Release();
            }
        }

        private enum Next
        {
            None,
            Start,
            HandedOver,
        }

        private Next TryNext(bool stopping, out ulong position, out ScanTriple target, out NetworkConcurrencyLimiter.Lease lease)
        {
            lease = default;
            var networks = _owner.Networks;
            // A deferred target whose network has room goes first (checked once per pass, oldest first).
            for (var i = _deferred.Count; i > 0; i--)
            {
                var (deferredPosition, deferredTarget) = _deferred.Dequeue();
                if (networks!.TryAcquire(deferredTarget.Family, deferredTarget.AddressKey, out lease))
                {
                    position = deferredPosition;
                    target = deferredTarget;
                    return Next.Start;
                }

                _deferred.Enqueue((deferredPosition, deferredTarget));
            }

            // Bounded: each pass takes a new position; deferral stops once as many wait as there are slots.
            while (!_exhausted && !stopping && _deferred.Count < _slots)
            {
                if (!_cursor.TryTake(out position, out target))
                {
                    _exhausted = true;
                    break;
                }

                if (target.Transport != Transport.Tcp)
                {
                    if (_owner.Options.HandOff)
                    {
                        // Identification probes UDP itself; it gets this thread's budget slot for it.
                        var handoff = Handoff.ForSlot(_holdsSlot ? _owner.Budget : null);
                        _holdsSlot = false;
                        Report(new DiscoveryResult(position, target, PortState.Unsupported, "connect discovery probes TCP only", handoff));
                        return Next.HandedOver;
                    }

                    Report(new DiscoveryResult(position, target, PortState.Unsupported, "connect discovery probes TCP only"));
                    continue;
                }

                if (networks is null)
                {
                    return Next.Start;
                }

                if (networks.TryAcquire(target.Family, target.AddressKey, out lease))
                {
                    return Next.Start;
                }

                _deferred.Enqueue((position, target));
            }

            position = 0;
            target = default;
            return Next.None;
        }

        private void Start(ulong position, ScanTriple target, NetworkConcurrencyLimiter.Lease lease)
        {
            _owner.Counters.Attempt();
            // The connect owns the held budget slot from here; Finish gives it back or hands it over.
            _holdsSlot = false;
            var family = target.IsIPv4 ? LinuxSockets.AfInet : LinuxSockets.AfInet6;
            var fd = LinuxSockets.socket(family, LinuxSockets.SockStream | LinuxSockets.SockNonBlock | LinuxSockets.SockCloexec, 0);
            if (fd < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                lease.Dispose();
                _owner.Budget?.Release();
                Report(new DiscoveryResult(position, target, PortState.LocalError, $"socket: errno {errno}"));
                return;
            }

            var length = LinuxSockets.WriteSockaddr(_address, target.Family, target.AddressKey, target.Port);
            var slot = _free.Pop();
            _fd[slot] = fd;
            _position[slot] = position;
            _target[slot] = target;
            _lease[slot] = lease;
            _outstanding++;
            if (LinuxSockets.connect(fd, _address, length) == 0)
            {
                Finish(slot, PortState.Open, 0);
                return;
            }

            var connectErrno = Marshal.GetLastPInvokeError();
            if (connectErrno != LinuxSockets.EInProgress)
            {
                Finish(slot, LinuxSockets.Classify(connectErrno), connectErrno);
                return;
            }

            BinaryPrimitives.WriteUInt32LittleEndian(_event, LinuxSockets.EpollOut | LinuxSockets.EpollErr | LinuxSockets.EpollHup);
            BinaryPrimitives.WriteUInt64LittleEndian(_event.AsSpan(4), (ulong)slot);
            if (LinuxSockets.epoll_ctl(_epoll, LinuxSockets.EpollCtlAdd, fd, _event) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                Finish(slot, PortState.LocalError, errno);
                return;
            }

            _deadline[slot] = _owner.Time.GetTimestamp() + _timeoutTicks;
            _byStart.Enqueue((slot, ++_generation[slot]));
        }

        /// <summary>The oldest connect still in flight (stale queue entries of reused slots are dropped).</summary>
        private bool TryPeekOldest(out int slot)
        {
            // Bounded: each pass drops one stale entry.
            while (_byStart.TryPeek(out var entry))
            {
                if (_fd[entry.Slot] >= 0 && _generation[entry.Slot] == entry.Generation)
                {
                    slot = entry.Slot;
                    return true;
                }

                _byStart.Dequeue();
            }

            slot = -1;
            return false;
        }

        private void Expire()
        {
            var now = _owner.Time.GetTimestamp();
            // Bounded: dequeues at most the connects started.
            while (TryPeekOldest(out var slot) && _deadline[slot] <= now)
            {
                _byStart.Dequeue();
                Finish(slot, PortState.Filtered, LinuxSockets.ETimedOut);
            }
        }

        private void Finish(int slot, PortState state, int errno)
        {
            var fd = _fd[slot];
            Handoff? handoff = null;
            if (state == PortState.Open && _owner.Options.HandOff)
            {
                // Out of our epoll set (it would keep reporting the writable socket), on to identification with its slots.
                _ = LinuxSockets.epoll_ctl(_epoll, LinuxSockets.EpollCtlDel, fd, _event);
                handoff = Handoff.ForDescriptor(fd, _lease[slot], _owner.Networks is not null, _owner.Budget);
            }
            else
            {
                if (state == PortState.Open)
                {
                    _ = LinuxSockets.setsockopt(fd, LinuxSockets.SolSocket, LinuxSockets.SoLinger, _linger, _linger.Length);
                }

                // close(2) also removes the descriptor from the epoll set.
                _ = LinuxSockets.close(fd);
                _lease[slot].Dispose();
                _owner.Budget?.Release();
            }

            _fd[slot] = -1;
            _lease[slot] = default;
            _outstanding--;
            _free.Push(slot);
            var error = state == PortState.Open ? null : errno == LinuxSockets.ETimedOut ? "connect timeout" : $"errno {errno}";
            Report(new DiscoveryResult(_position[slot], _target[slot], state, error, handoff));
        }

        private void Report(DiscoveryResult result)
        {
            _owner.Counters.Count(result.State);
            _onResult(result);
            if (result.State != PortState.Open || _owner.Options.CompleteOpenPositions)
            {
                _cursor.Complete(result.Position);
            }
        }
    }
}
