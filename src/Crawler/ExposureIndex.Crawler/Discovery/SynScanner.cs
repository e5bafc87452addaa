using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.RateLimiting;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Discovery;

/// <summary>Settings of <see cref="SynScanner"/>.</summary>
internal sealed record SynScanOptions
{
    /// <summary>How long replies are awaited after a probe: positions are checkpointed this long after sending, and the scan ends this long after the last probe.</summary>
    public TimeSpan ReplyWait { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Our TCP source port; a free one is chosen and reserved when null.</summary>
    public ushort? SourcePort { get; init; }

    /// <summary>Kernel receive buffer of the raw socket (SO_RCVBUFFORCE, needs CAP_NET_ADMIN; else the rmem_max cap applies).</summary>
    public int ReceiveBufferBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>Probes per rate-limiter reservation: fewer clock reads and lock takes at high rates.</summary>
    public int SendBatch { get; init; } = 64;

    public byte Ttl { get; init; } = 64;

    /// <summary>Opens the raw socket; a plain raw IPv4/TCP socket when null (tests inject a refusal).</summary>
    public Func<Socket>? OpenRawSocket { get; init; }
}

/// <summary>
/// Stateless SYN discovery (<c>--syn</c>), as masscan and zmap do it: one raw IPv4 socket with IP_HDRINCL sends a
/// SYN per target whose sequence number is a <see cref="SynCookie"/>, and a receive thread reads every TCP segment
/// to our source port (a classic BPF filter on the socket drops the rest in the kernel), keeping the SYN-ACKs
/// (open) and RSTs (closed) whose acknowledgement number proves they answer our probe. No per-target state.
/// </summary>
/// <remarks>
/// The half-open connection at the target is torn down by our own kernel: it has no socket for the SYN-ACK's
/// 4-tuple and answers it with an RST (RFC 9293 §3.10.7.1), which is the polite end a scanner wants, so we do not
/// send RSTs ourselves. The source port is reserved by binding (not listening) a TCP socket to it, so the kernel
/// never hands it out as an ephemeral port meanwhile, and still resets SYN-ACKs that arrive for it.
/// Needs root or CAP_NET_RAW (<see cref="TryCreate"/> says so clearly otherwise). IPv4 TCP only: UDP and IPv6
/// triples are reported <see cref="PortState.Unsupported"/> for the connect scan to take.
/// </remarks>
internal sealed class SynScanner : IDisposable
{
    /// <summary>The fallback message when raw sockets are not permitted.</summary>
    public const string PermissionMessage =
        "SYN scanning needs raw sockets, which this process may not open (it is not root and lacks CAP_NET_RAW). "
        + "Run as root, grant the capability (setcap cap_net_raw,cap_net_admin+ep on the dotnet host, or securityContext.capabilities.add: [NET_RAW] in Kubernetes), "
        + "or leave out --syn to use the connect scan, which needs no privileges";

    /// <summary>Position of a reply whose probe position is unknown (replies carry no state).</summary>
    public const ulong NoPosition = ulong.MaxValue;

    private const int SolSocket = 1;
    private const int SoAttachFilter = 26;
    private const int SoRcvBufForce = 33;
    private const int MaxDrainedAfterStop = 1 << 20;

    private readonly Socket _raw;
    private readonly Socket _portReservation;
    private readonly SynScanOptions _options;
    private readonly SynCookie _cookie;
    private readonly TimeProvider _time;
    private readonly HashSet<ulong> _openSeen = [];
    private long _sent;
    private long _ignored;
    private long _sendErrors;
    private long _sendCpuTicks;

    private SynScanner(Socket raw, Socket portReservation, ushort sourcePort, SynScanOptions options, SynCookie cookie, TimeProvider time)
    {
        _raw = raw;
        _portReservation = portReservation;
        SourcePort = sourcePort;
        _options = options;
        _cookie = cookie;
        _time = time;
    }

    public ushort SourcePort { get; }

    public DiscoveryCounters Counters { get; } = new();

    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>TCP segments to our port that did not answer one of our probes (wrong cookie, other flags).</summary>
    public long Ignored => Interlocked.Read(ref _ignored);

    public long SendErrors => Interlocked.Read(ref _sendErrors);

    /// <summary>CPU time (user + system) of the sending thread while it sent, for probes per second per core.</summary>
    public TimeSpan SendTime => TimeSpan.FromTicks(Interlocked.Read(ref _sendCpuTicks));

    /// <summary>
    /// Opens the raw socket and reserves a source port. False, with <paramref name="error"/> saying what to do,
    /// when raw sockets are not permitted or not supported here; never throws for those.
    /// </summary>
    public static bool TryCreate(SynScanOptions options, TimeProvider time, out SynScanner? scanner, out string error,
        Func<Socket>? openRawSocket = null, SynCookie? cookie = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        scanner = null;
        error = string.Empty;
        if (!OperatingSystem.IsLinux())
        {
            error = "SYN scanning is implemented for Linux raw sockets only; leave out --syn to use the connect scan";
            return false;
        }

        Socket raw;
        try
        {
            raw = (openRawSocket ?? options.OpenRawSocket)?.Invoke() ?? new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Tcp);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AccessDenied or SocketError.ProtocolNotSupported
            or SocketError.SocketNotSupported or SocketError.OperationNotSupported or SocketError.AddressFamilyNotSupported)
        {
            error = e.SocketErrorCode == SocketError.AccessDenied ? PermissionMessage : $"{PermissionMessage} ({e.SocketErrorCode}: {e.Message})";
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            error = PermissionMessage;
            return false;
        }

        Socket? reservation = null;
        try
        {
            raw.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.HeaderIncluded, true);
            reservation = ReservePort(options.SourcePort, out var port);
            SetReceiveBuffer(raw, options.ReceiveBufferBytes);
            AttachPortFilter(raw, port);
            raw.ReceiveTimeout = 200;
            scanner = new SynScanner(raw, reservation, port, options, cookie ?? SynCookie.Random(), time);
            return true;
        }
        catch (SocketException e)
        {
            raw.Dispose();
            reservation?.Dispose();
            error = $"cannot prepare the raw socket for SYN scanning: {e.SocketErrorCode}: {e.Message}";
            return false;
        }
    }

    /// <summary>
    /// Sends a SYN for every IPv4 TCP triple the cursor hands out (behind <paramref name="rate"/>), reports
    /// answers to <paramref name="onResult"/> from the receive thread (keep it quick: e.g. a channel write), and
    /// returns <see cref="SynScanOptions.ReplyWait"/> after the last probe. Positions are completed that long after
    /// their probe left, so a checkpoint never passes a probe whose answer could still come. Cancelling
    /// <paramref name="stop"/> stops sending; replies are still awaited for the probes already sent.
    /// </summary>
    public async Task RunAsync(SweepCursor cursor, TokenBucket? rate, Action<DiscoveryResult> onResult, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        ArgumentNullException.ThrowIfNull(onResult);
        using var receiveStop = new CancellationTokenSource();
        var receiver = Task.Factory.StartNew(() => ReceiveLoop(onResult, receiveStop.Token), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var pending = new Queue<(ulong Last, long SentAt)>();
        try
        {
            await Task.Factory.StartNew(() => SendLoop(cursor, rate, onResult, pending, stop), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            await Task.Delay(_options.ReplyWait, _time, CancellationToken.None).ConfigureAwait(false);
            CompleteSent(cursor, pending, long.MaxValue);
        }
        finally
        {
            await receiveStop.CancelAsync().ConfigureAwait(false);
            await receiver.ConfigureAwait(false);
        }
    }

    private void SendLoop(SweepCursor cursor, TokenBucket? rate, Action<DiscoveryResult> onResult, Queue<(ulong Last, long SentAt)> pending, CancellationToken stop)
    {
        Span<byte> loopbackPacket = stackalloc byte[TcpPackets.SynBytes];
        Span<byte> routedPacket = stackalloc byte[TcpPackets.SynBytes];
        uint loopbackSource = 0;
        uint routedSource = 0;
        var address = new SocketAddress(AddressFamily.InterNetwork);
        var batch = Math.Max(1, _options.SendBatch);
        var permits = 0;
        ulong? batchFirst = null;
        ulong batchLast = 0;
        var cpuMark = LinuxSockets.ThreadCpuTime();
        // Bounded: the cursor is finite; cancellation stops it between probes.
        while (!stop.IsCancellationRequested)
        {
            if (permits == 0)
            {
                FlushBatch();
                if (rate is not null)
                {
                    // Sleeping and spinning for the rate limit is not send work: leave it out of the CPU account.
                    var wait = rate.Reserve(batch);
                    if (wait > TimeSpan.Zero)
                    {
                        AccountCpu(ref cpuMark);
                        SleepUntil(wait, stop);
                        cpuMark = LinuxSockets.ThreadCpuTime();
                    }
                }

                permits = batch;
                CompleteSent(cursor, pending, _time.GetTimestamp());
            }

            if (!cursor.TryTake(out var position, out var target))
            {
                break;
            }

            permits--;
            if (target.Transport != Transport.Tcp || !target.IsIPv4)
            {
                Counters.Count(PortState.Unsupported);
                onResult(new DiscoveryResult(position, target, PortState.Unsupported, "SYN discovery probes IPv4 TCP only"));
                Track(position);
                continue;
            }

            var destination = (uint)target.AddressKey;
            var loopback = destination >> 24 == 127;
            var packet = loopback ? loopbackPacket : routedPacket;
            ref var source = ref loopback ? ref loopbackSource : ref routedSource;
            if (source == 0)
            {
                source = RouteSource(destination);
                TcpPackets.WriteTemplate(packet, source, SourcePort, _options.Ttl);
            }

            var port = (ushort)target.Port;
            TcpPackets.CompleteSyn(packet, destination, port, _cookie.Compute(source, SourcePort, destination, port));
            var buffer = address.Buffer.Span;
            BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], destination);
            Counters.Attempt();
            SendOne(packet, address, position, target, onResult);
            Track(position);
        }

        FlushBatch();
        AccountCpu(ref cpuMark);

        void Track(ulong position)
        {
            batchFirst ??= position;
            batchLast = position;
        }

        void FlushBatch()
        {
            if (batchFirst is not null)
            {
                pending.Enqueue((batchLast, _time.GetTimestamp()));
                batchFirst = null;
            }
        }
    }

    private void AccountCpu(ref TimeSpan? mark)
    {
        var now = LinuxSockets.ThreadCpuTime();
        if (mark is { } then && now is { } current)
        {
            Interlocked.Add(ref _sendCpuTicks, (current - then).Ticks);
        }

        mark = now;
    }

    private void SendOne(ReadOnlySpan<byte> packet, SocketAddress address, ulong position, ScanTriple target, Action<DiscoveryResult> onResult)
    {
        // Bounded: a full send queue (ENOBUFS) is retried a few times, then the probe counts as a local error.
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                _raw.SendTo(packet, SocketFlags.None, address);
                Interlocked.Increment(ref _sent);
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
            {
                Thread.Sleep(1);
            }
            catch (SocketException e)
            {
                Interlocked.Increment(ref _sendErrors);
                Counters.Count(PortState.LocalError);
                onResult(new DiscoveryResult(position, target, PortState.LocalError, $"sendto: {e.SocketErrorCode}"));
                return;
            }
        }

        Interlocked.Increment(ref _sendErrors);
        Counters.Count(PortState.LocalError);
        onResult(new DiscoveryResult(position, target, PortState.LocalError, "sendto: no buffer space"));
    }

    /// <summary>Completes the positions of batches sent at least ReplyWait before <paramref name="now"/>.</summary>
    private void CompleteSent(SweepCursor cursor, Queue<(ulong Last, long SentAt)> pending, long now)
    {
        var lag = (long)(_options.ReplyWait.TotalSeconds * _time.TimestampFrequency);
        // Bounded: dequeues only batches that were queued.
        while (pending.TryPeek(out var sent) && (now == long.MaxValue || now - sent.SentAt >= lag))
        {
            pending.Dequeue();
            // Positions were taken by this one thread in order: everything up to Last not yet completed is this batch.
            for (var p = cursor.LowWater; p <= sent.Last; p++)
            {
                cursor.Complete(p);
            }
        }
    }

    private void ReceiveLoop(Action<DiscoveryResult> onResult, CancellationToken stop)
    {
        var buffer = new byte[65536];
        var drained = 0;
        // Bounded: ends when the scan stops; each receive waits at most ReceiveTimeout. Answers already queued when
        // the stop comes are still read (a receive thread descheduled on a busy machine must not lose them), up to
        // a cap so that a peer flooding us cannot hold the scan open.
        while (true)
        {
            if (stop.IsCancellationRequested && (drained++ >= MaxDrainedAfterStop || !HasQueuedPacket()))
            {
                return;
            }

            int length;
            try
            {
                length = _raw.Receive(buffer);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.Interrupted)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            if (!TcpPackets.TryParse(buffer.AsSpan(0, length), out var segment) || segment.DestinationPort != SourcePort)
            {
                continue;
            }

            var flags = segment.Flags;
            var answersSyn = (flags & TcpFlags.Ack) != 0 && (flags & (TcpFlags.Syn | TcpFlags.Rst)) != 0;
            if (!answersSyn || !_cookie.Verify(segment.DestinationIp, segment.DestinationPort, segment.SourceIp, segment.SourcePort, segment.Acknowledgement))
            {
                Interlocked.Increment(ref _ignored);
                continue;
            }

            var target = new ScanTriple(AddressFamily.InterNetwork, segment.SourceIp, segment.SourcePort, Transport.Tcp);
            if ((flags & TcpFlags.Syn) != 0)
            {
                // A target may resend its SYN-ACK; report each open port once.
                if (_openSeen.Add(((ulong)segment.SourceIp << 16) | segment.SourcePort))
                {
                    Counters.Count(PortState.Open);
                    onResult(new DiscoveryResult(NoPosition, target, PortState.Open));
                }
            }
            else
            {
                Counters.Count(PortState.Closed);
                onResult(new DiscoveryResult(NoPosition, target, PortState.Closed));
            }
        }
    }

    private bool HasQueuedPacket()
    {
        try
        {
            return _raw.Available > 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    private void SleepUntil(TimeSpan wait, CancellationToken stop)
    {
        if (wait <= TimeSpan.Zero)
        {
            return;
        }

        if (!ReferenceEquals(_time, TimeProvider.System))
        {
            // An injected clock: only its own timers know when "later" is.
            try
            {
                Task.Delay(wait, _time, stop).Wait(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }

            return;
        }

        // Sleep most of the wait, spin the last millisecond: timer wake-ups are late by a millisecond or more,
        // and at high rates that lateness would otherwise exceed the bucket's burst allowance and lower the rate.
        var due = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
        var sleep = wait - TimeSpan.FromMilliseconds(1);
        if (sleep > TimeSpan.Zero)
        {
            stop.WaitHandle.WaitOne(sleep);
        }

        var spinner = default(SpinWait);
        // Bounded: ends at the due time (at most a millisecond or so of spinning) or on cancellation.
        while (Stopwatch.GetTimestamp() < due && !stop.IsCancellationRequested)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>The source address the kernel would use towards <paramref name="destination"/> (a UDP connect sends nothing).</summary>
    private static uint RouteSource(uint destination)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Connect(new IPEndPoint(new IPAddress(BinaryPrimitives.ReverseEndianness(destination)), 9));
        var local = (IPEndPoint)probe.LocalEndPoint!;
        return BinaryPrimitives.ReadUInt32BigEndian(local.Address.GetAddressBytes());
    }

    private static Socket ReservePort(ushort? wanted, out ushort port)
    {
        // Outside the usual ephemeral range (Linux 32768-60999) so no live connection of ours shares it.
        var candidates = wanted is { } fixedPort ? [fixedPort] : Enumerable.Range(0, 32).Select(_ => (ushort)System.Random.Shared.Next(61000, 65535)).ToArray();
        SocketException? last = null;
        foreach (var candidate in candidates)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Any, candidate));
                port = candidate;
                return socket;
            }
            catch (SocketException e)
            {
                last = e;
                socket.Dispose();
            }
        }

        throw last ?? new SocketException((int)SocketError.AddressAlreadyInUse);
    }

    private static void SetReceiveBuffer(Socket raw, int bytes)
    {
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(value, bytes);
        try
        {
            raw.SetRawSocketOption(SolSocket, SoRcvBufForce, value);
        }
        catch (SocketException)
        {
            // Without CAP_NET_ADMIN: ask for it the ordinary way, capped by net.core.rmem_max.
            raw.ReceiveBufferSize = bytes;
        }
    }

    /// <summary>
    /// Attaches a classic BPF program (linux/filter.h) keeping only TCP segments to <paramref name="port"/>:
    /// x = 4 * (IP header length); load the 16-bit TCP destination port at x + 2; accept if equal, else drop.
    /// Without it the receive thread would copy every TCP segment on the host.
    /// </summary>
    private static void AttachPortFilter(Socket raw, ushort port)
    {
        (ushort Code, byte True, byte False, uint K)[] program =
        [
            (0xb1, 0, 0, 0), // BPF_LDX | BPF_B | BPF_MSH: x = 4 * ([0] & 0xf)
            (0x48, 0, 0, 2), // BPF_LD | BPF_H | BPF_IND: a = [x + 2]
            (0x15, 0, 1, port), // BPF_JMP | BPF_JEQ | BPF_K
            (0x06, 0, 0, 0x40000), // BPF_RET | BPF_K: accept
            (0x06, 0, 0, 0), // drop
        ];
        var instructions = new byte[program.Length * 8];
        for (var i = 0; i < program.Length; i++)
        {
            var (code, jt, jf, k) = program[i];
            var slot = instructions.AsSpan(i * 8);
            BitConverter.TryWriteBytes(slot, code);
            slot[2] = jt;
            slot[3] = jf;
            BitConverter.TryWriteBytes(slot[4..], k);
        }

        var memory = Marshal.AllocHGlobal(instructions.Length);
        try
        {
            Marshal.Copy(instructions, 0, memory, instructions.Length);
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the pointer is aligned.
            var fprog = new byte[2 * IntPtr.Size];
            BitConverter.TryWriteBytes(fprog, (ushort)program.Length);
            if (IntPtr.Size == 8)
            {
                BitConverter.TryWriteBytes(fprog.AsSpan(8), memory.ToInt64());
            }
            else
            {
                BitConverter.TryWriteBytes(fprog.AsSpan(4), memory.ToInt32());
            }

            // The kernel copies the program: the memory can go right after.
            raw.SetRawSocketOption(SolSocket, SoAttachFilter, fprog);
        }
        finally
        {
            Marshal.FreeHGlobal(memory);
        }
    }

    public void Dispose()
    {
        _raw.Dispose();
        _portReservation.Dispose();
    }
}
