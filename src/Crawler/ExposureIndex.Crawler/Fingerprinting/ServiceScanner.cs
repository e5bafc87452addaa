using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Fingerprinting.Probes;
using ExposureIndex.Grabbers;

namespace ExposureIndex.Crawler.Fingerprinting;

/// <summary>Defaults of the engine's fixed timings.</summary>
internal static class ScanDefaults
{
    public static readonly TimeSpan TalkFirstGrace = TimeSpan.FromMilliseconds(500);

    public static readonly TimeSpan QuietGap = TimeSpan.FromMilliseconds(400);
}

/// <summary>How the probe engine behaves; taken from the crawl options once.</summary>
internal sealed record ScanSettings
{
    /// <summary>nmap's --version-intensity: probes rarer than this are skipped unless they list the port.</summary>
    public int Intensity { get; init; } = 7;

    /// <summary>How long the NULL probe listens for a banner on a port where a talk-first service is expected.</summary>
    public TimeSpan BannerWait { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a silent port gets before probes are sent elsewhere: talk-first services greet within one round
    /// trip, so a short grace suffices where no talk-first service is expected.
    /// </summary>
    public TimeSpan TalkFirstGrace { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait for the first byte of a probe's answer (a probe's own totalwaitms may shorten it).</summary>
    public TimeSpan ProbeWait { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>After data, this much silence ends a response.</summary>
    public TimeSpan QuietGap { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>Bytes kept of one response.</summary>
    public int MaxResponseBytes { get; init; } = 64 * 1024;

    /// <summary>Probe connections open at once to one port besides the NULL probe's (politeness cap).</summary>
    public int MaxParallelProbes { get; init; } = 3;

    /// <summary>Ports treated as cleartext HTTP: our HTTP probe goes first there, on the NULL probe's connection.</summary>
    public Targeting.PortSet HttpPorts { get; init; } = Targeting.PortSet.Empty;

    /// <summary>The User-Agent our HTTP probes send (with the contact URL).</summary>
    public string UserAgent { get; init; } = "ExposureIndex-Crawler/0.1";

    /// <summary>Connect timeout and byte caps for probe connections.</summary>
    public GrabLimits Limits { get; init; } = new();
}

/// <summary>What the engine found on one port.</summary>
internal sealed record ServiceIdentification
{
    public static readonly ServiceIdentification None = new() { Outcome = GrabOutcome.Unknown };

    /// <summary>nmap's service name, without "ssl/" ("http", "ssh"), or "tcpwrapped"; null when unknown.</summary>
    public string? Service { get; init; }

    /// <summary>The service is spoken inside TLS (nmap's "ssl/&lt;service&gt;").</summary>
    public bool Tls { get; init; }

    /// <summary>The match that named the service (soft or hard), if any.</summary>
    public ServiceFingerprint? Fingerprint { get; init; }

    /// <summary>What the service said unprompted (the NULL probe), possibly empty.</summary>
    public byte[] Banner { get; init; } = [];

    /// <summary>The answer that matched, or the most informative answer when nothing matched.</summary>
    public byte[] Response { get; init; } = [];

    /// <summary>The probe whose answer is <see cref="Response"/>.</summary>
    public string? ProbeName { get; init; }

    public GrabOutcome Outcome { get; init; } = GrabOutcome.Success;

    public string? Error { get; init; }

    public bool Truncated { get; init; }

    /// <summary>Probes sent (connections or datagrams), for the politeness account.</summary>
    public int ProbesSent { get; init; }

    public string? NamedService => Service is null ? (Tls ? "ssl" : null) : Service;
}

/// <summary>
/// The service-identification state machine (nmap's service scan, reorganised for wall time): the NULL probe
/// listens first; probes that list the port go next (the first on the NULL probe's own connection when the port
/// is silent); then the other probes in rarity order up to the intensity, a few at a time on parallel connections
/// (a small per-port cap); a soft match narrows the rest to probes that can hard-match that service; a hard match
/// ends everything at once. On TLS ports (sslports), and when an answer looks like a TLS record, the same search
/// runs inside TLS and reports the service within. A peer that closes without a word within tcpwrappedms is
/// "tcpwrapped". Every connection goes through <see cref="IGrabNetwork"/> with the caps of
/// <see cref="ScanSettings.Limits"/>, and the caller's token (the per-target deadline) bounds the whole search.
/// </summary>
internal sealed class ServiceScanner(ProbeMatcher matcher, IGrabNetwork network, ScanSettings settings, TimeProvider time)
{
    /// <summary>Our HTTP probe (in exposure-service-probes); it carries the Host header and our User-Agent.</summary>
    public const string HttpProbeName = "HTTPGet";

    private static readonly TimeSpan DefaultTcpWrapped = TimeSpan.FromSeconds(3);

    public ProbeCatalog Catalog => matcher.Catalog;

    public ScanSettings Settings => settings;

    /// <summary>Identifies a TCP service. <paramref name="first"/> is an already open connection (the crawler's connect), or null.</summary>
    public async Task<ServiceIdentification> IdentifyTcpAsync(GrabTarget target, GrabConnection? first, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var slots = new SemaphoreSlim(Math.Max(1, settings.MaxParallelProbes));
        var run = new TcpRun(this, target, tls: false, slots, cancellationToken);
        return await run.ExecuteAsync(first).ConfigureAwait(false);
    }

    /// <summary>
    /// Identifies a UDP service: the probes for that port, then (if none answered) the rest in rarity order up to the
    /// intensity, a few datagrams at a time. Null when nothing answered (UDP silence proves nothing, so no record).
    /// </summary>
    public async Task<ServiceIdentification?> IdentifyUdpAsync(GrabTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var port = target.Port;
        var udp = Catalog.Udp;
        var forPort = udp.Where(p => p.Ports.Contains(port)).OrderBy(p => p.Rarity).ToList();
        var others = Catalog.Excluded.Udp.Contains(port) ? [] : udp.Where(p => !forPort.Contains(p) && p.Rarity <= settings.Intensity).OrderBy(p => p.Rarity).ToList();
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var gate = new object();
        ServiceIdentification? best = null;
        ServiceFingerprint? soft = null;
        var sent = 0;
        var refused = false;

        async Task RunOneAsync(ServiceProbe probe)
        {
            if (done.IsCancellationRequested)
            {
                return;
            }

            var limits = settings.Limits with { ReadTimeout = Wait(probe) };
            IReadOnlyList<byte[]> replies;
            Interlocked.Increment(ref sent);
            try
            {
                replies = await network.ExchangeUdpAsync(target, probe.Payload, limits, done.Token, maxReplies: 4).ConfigureAwait(false);
            }
            catch (GrabLimitException e) when (e.Outcome == GrabOutcome.Refused)
            {
                // ICMP port unreachable: the port is closed; nothing else will answer.
                lock (gate)
                {
                    refused = true;
                }

                await done.CancelAsync().ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is GrabLimitException or System.Net.Sockets.SocketException or IOException)
            {
                return;
            }

            if (replies.Count == 0)
            {
                return;
            }

            var response = replies.SelectMany(r => r).Take(settings.MaxResponseBytes).ToArray();
            var fingerprint = matcher.Match(probe, response, soft?.Service);
            lock (gate)
            {
                if (fingerprint is { IsSoft: false })
                {
                    if (best?.Fingerprint is not { IsSoft: false })
                    {
                        best = Identified(fingerprint, [], response, probe.Name);
                    }

                    done.Cancel();
                    return;
                }

                if (fingerprint is { IsSoft: true } && soft is null)
                {
                    soft = fingerprint;
                    best = Identified(fingerprint, [], response, probe.Name);
                }

                best ??= new ServiceIdentification { Response = response, ProbeName = probe.Name };
            }
        }

        await RunLimitedAsync(forPort, RunOneAsync, done.Token).ConfigureAwait(false);
        bool answered;
        lock (gate)
        {
            answered = best is not null || refused;
        }

        if (!answered && !done.IsCancellationRequested)
        {
            await RunLimitedAsync(others, RunOneAsync, done.Token).ConfigureAwait(false);
        }

        lock (gate)
        {
            return refused && best is null ? null : best is null ? null : best with { ProbesSent = sent };
        }
    }

    private async Task RunLimitedAsync(IReadOnlyList<ServiceProbe> probes, Func<ServiceProbe, Task> run, CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(Math.Max(1, settings.MaxParallelProbes));
        var tasks = new List<Task>(probes.Count);
        foreach (var probe in probes)
        {
            try
            {
                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            tasks.Add(Task.Run(async () =>
            {
                try
                {
                    await run(probe).ConfigureAwait(false);
                }
                finally
                {
                    slots.Release();
                }
            }, CancellationToken.None));
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private TimeSpan Wait(ServiceProbe probe)
        => probe.TotalWait is { } own && own < settings.ProbeWait ? own : settings.ProbeWait;

    private static ServiceIdentification Identified(ServiceFingerprint fingerprint, byte[] banner, byte[] response, string probe)
    {
        var tls = fingerprint.Service.StartsWith("ssl/", StringComparison.OrdinalIgnoreCase);
        return new ServiceIdentification
        {
            Service = ProbeMatcher.StripTunnel(fingerprint.Service),
            Tls = tls,
            Fingerprint = fingerprint,
            Banner = banner,
            Response = response,
            ProbeName = probe,
        };
    }

    /// <summary>The bytes a probe sends to <paramref name="target"/>: our own file may name the Host header and User-Agent.</summary>
    internal byte[] PayloadFor(ServiceProbe probe, GrabTarget target)
    {
        if (probe.File != ProbeCatalog.EmbeddedName || probe.Payload.AsSpan().IndexOf("${"u8) < 0)
        {
            return probe.Payload;
        }

        var text = Encoding.Latin1.GetString(probe.Payload)
            .Replace("${host}", target.HostHeader, StringComparison.Ordinal)
            .Replace("${addr}", target.Address.ToString(), StringComparison.Ordinal)
            .Replace("${user-agent}", settings.UserAgent, StringComparison.Ordinal);
        return Encoding.Latin1.GetBytes(text);
    }

    internal static bool LooksLikeTls(ReadOnlySpan<byte> data)
        // TLS record header (RFC 8446 §5.1): content type handshake (22) or alert (21), legacy version 3.x.
        => data.Length >= 3 && data[0] is 0x15 or 0x16 && data[1] == 0x03 && data[2] <= 0x04;

    /// <summary>One search over plain TCP or inside TLS; the TLS search is a nested run.</summary>
    private sealed class TcpRun
    {
        private readonly ServiceScanner _owner;
        private readonly GrabTarget _target;
        private readonly bool _tls;
        private readonly SemaphoreSlim _slots;
        private readonly CancellationTokenSource _done;
        private readonly object _gate = new();
        private readonly HashSet<ServiceProbe> _tried = [];
        private ServiceIdentification? _hard;
        private ServiceFingerprint? _soft;
        private byte[] _softResponse = [];
        private string? _softProbe;
        private byte[] _banner = [];
        private byte[] _fallbackResponse = [];
        private string? _fallbackProbe;
        private bool _sawTls;
        private bool _anyData;
        private bool _truncated;
        private int _sent;
        private Task<ServiceIdentification?>? _tlsRun;

        public TcpRun(ServiceScanner owner, GrabTarget target, bool tls, SemaphoreSlim slots, CancellationToken cancellationToken)
        {
            _owner = owner;
            _target = target;
            _tls = tls;
            _slots = slots;
            _done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Outer = cancellationToken;
        }

        /// <summary>The TLS handshake of this (nested) run succeeded.</summary>
        public bool HandshakeDone { get; private set; }

        private CancellationToken Outer { get; }

        private ScanSettings Settings => _owner.Settings;

        private ProbeCatalog Catalog => _owner.Catalog;

        public async Task<ServiceIdentification> ExecuteAsync(GrabConnection? first)
        {
            using (_done)
            {
                try
                {
                    return await SearchAsync(first).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (Outer.IsCancellationRequested)
                {
                    // The target's deadline: report what was learned so far.
                    return Result(closedEarly: false);
                }
            }
        }

        private async Task<ServiceIdentification> SearchAsync(GrabConnection? first)
        {
            var port = _target.Port;
            var nullProbe = Catalog.Null;
            var excluded = Catalog.Excluded.Tcp.Contains(port);
            var talkFirstExpected = nullProbe is not null && nullProbe.Ports.Contains(port);
            var sslPort = !_tls && Catalog.Tcp.Any(p => p.SslPorts.Contains(port));
            var forPort = excluded ? [] : Catalog.Tcp
                .Where(p => !(_tls && IsTlsProbe(p)))
                .Where(p => (_tls ? p.SslPorts.Contains(port) || p.Ports.Contains(port) : p.Ports.Contains(port))
                    || (p.Name == HttpProbeName && !_tls && Settings.HttpPorts.Contains(port)))
                .OrderBy(p => p.Name == HttpProbeName && Settings.HttpPorts.Contains(port) ? 0 : 1)
                .ThenBy(p => p.Rarity)
                .ToList();

            // 1. The NULL probe: listen on the first connection.
            ProbeSession? nullSession;
            try
            {
                nullSession = await OpenAsync(first).ConfigureAwait(false);
            }
            catch (GrabLimitException e)
            {
                return new ServiceIdentification { Outcome = e.Outcome, Error = e.Message, Tls = _tls };
            }

            var closedEarly = false;
            Task? nullTail = null;
            await using (nullSession.ConfigureAwait(false))
            {
                var grace = talkFirstExpected || excluded ? Settings.BannerWait : Min(Settings.TalkFirstGrace, Settings.BannerWait);
                var nullOwn = nullProbe ?? new ServiceProbe(ProbeProtocol.Tcp, "NULL", [], ProbeCatalog.EmbeddedName, 0);
                try
                {
                    await nullSession.CollectAsync(grace, Settings.QuietGap, EnoughFor(nullSession, nullOwn), _done.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_done.IsCancellationRequested)
                {
                    // The deadline ended a banner that kept dripping: keep what arrived.
                }

                if (nullSession.Length > 0)
                {
                    Evaluate(nullOwn, nullSession, isNull: true);
                }
                else if (nullSession.Closed)
                {
                    // nmap's tcpwrapped: a peer that hangs up at once without a word (a TCP wrapper refusing us).
                    closedEarly = nullSession.ClosedAfter < (nullProbe?.TcpWrappedWait ?? DefaultTcpWrapped);
                }

                if (IsDone || excluded || closedEarly)
                {
                    return Result(closedEarly);
                }

                var queue = new List<ServiceProbe>(forPort);
                var silent = nullSession.Length == 0 && !nullSession.Closed;
                if (silent && queue.Count > 0 && !sslPort)
                {
                    // A silent port that expects the client to speak: the first probe goes on this connection.
                    var probe = queue[0];
                    queue.RemoveAt(0);
                    nullTail = RunOnSessionAsync(nullSession, probe, alsoNull: true);

                    // The port's own probe is the likeliest hit: give it a moment alone before opening more connections.
                    try
                    {
                        await nullTail.WaitAsync(Settings.TalkFirstGrace * 2, _owner.Time, _done.Token).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                    }
                    catch (OperationCanceledException) when (_done.IsCancellationRequested)
                    {
                    }

                    if (IsDone)
                    {
                        await nullTail.ConfigureAwait(false);
                        return Result(closedEarly);
                    }
                }
                else if (silent)
                {
                    // Keep listening for a late banner while other probes run.
                    nullTail = ListenLateAsync(nullSession, nullOwn, grace);
                }

                // On a TLS port the search inside TLS goes first: plain probes would only draw "plain HTTP sent to
                // an HTTPS port" errors. A completed handshake settles it; otherwise the plain search goes on.
                if (sslPort && silent)
                {
                    StartTls();
                    if (await _tlsRun!.ConfigureAwait(false) is { } early)
                    {
                        await _done.CancelAsync().ConfigureAwait(false);
                        await nullTail!.ConfigureAwait(false);
                        return early with { ProbesSent = early.ProbesSent + _sent };
                    }
                }

                // Probes for this port, then the rest by rarity (up to the intensity), a few at a time.
                var rest = Catalog.Tcp
                    .Where(p => !queue.Contains(p) && !_tried.Contains(p) && p.Rarity <= Settings.Intensity && !(_tls && IsTlsProbe(p)))
                    .OrderBy(p => p.Rarity)
                    .ToList();
                await RunQueueAsync(queue).ConfigureAwait(false);
                if (!IsDone)
                {
                    await RunQueueAsync(rest).ConfigureAwait(false);
                }

                if (nullTail is not null)
                {
                    await nullTail.ConfigureAwait(false);
                }
            }

            if (_tlsRun is { } tlsRun && await tlsRun.ConfigureAwait(false) is { } inner)
            {
                // Inside TLS something was identified, or nothing outside was: the TLS view wins.
                lock (_gate)
                {
                    if (inner.Service is not null || _hard is null)
                    {
                        return inner with { ProbesSent = inner.ProbesSent + _sent };
                    }
                }
            }

            return Result(closedEarly);
        }

        private bool IsDone => _done.IsCancellationRequested;

        private async Task RunQueueAsync(List<ServiceProbe> probes)
        {
            var tasks = new List<Task>();
            foreach (var probe in probes)
            {
                if (IsDone)
                {
                    break;
                }

                lock (_gate)
                {
                    if (_soft is not null && !probe.CanHardMatch(ProbeMatcher.StripTunnel(_soft.Service)))
                    {
                        continue;
                    }

                    if (!_tried.Add(probe))
                    {
                        continue;
                    }
                }

                try
                {
                    await _slots.WaitAsync(_done.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                tasks.Add(Task.Run(async () =>
                {
                    try
                    {
                        await RunProbeAsync(probe).ConfigureAwait(false);
                    }
                    finally
                    {
                        _slots.Release();
                    }
                }, CancellationToken.None));
            }

            await Task.WhenAll(tasks).ConfigureAwait(false);
        }

        private async Task RunProbeAsync(ServiceProbe probe)
        {
            ProbeSession session;
            try
            {
                session = await OpenAsync(null).ConfigureAwait(false);
            }
            catch (Exception e) when (e is GrabLimitException or OperationCanceledException)
            {
                return;
            }

            await using (session.ConfigureAwait(false))
            {
                await ExchangeAsync(session, probe, alsoNull: true).ConfigureAwait(false);
            }
        }

        private async Task RunOnSessionAsync(ProbeSession session, ServiceProbe probe, bool alsoNull)
        {
            lock (_gate)
            {
                _tried.Add(probe);
            }

            await ExchangeAsync(session, probe, alsoNull).ConfigureAwait(false);
        }

        private async Task ExchangeAsync(ProbeSession session, ServiceProbe probe, bool alsoNull)
        {
            try
            {
                Interlocked.Increment(ref _sent);
                await session.WriteAsync(_owner.PayloadFor(probe, _target), _done.Token).ConfigureAwait(false);
                await session.CollectAsync(_owner.Wait(probe), Settings.QuietGap, EnoughFor(session, probe), _done.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_done.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is GrabLimitException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                // The peer hung up or would not take the probe: whatever arrived is still evaluated.
            }

            if (session.Length > 0)
            {
                Evaluate(probe, session, isNull: false, alsoNull);
            }
        }

        private async Task ListenLateAsync(ProbeSession session, ServiceProbe nullProbe, TimeSpan already)
        {
            try
            {
                var remaining = Settings.BannerWait - already;
                if (remaining > TimeSpan.Zero)
                {
                    await session.CollectAsync(remaining, Settings.QuietGap, EnoughFor(session, nullProbe), _done.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (_done.IsCancellationRequested)
            {
                return;
            }

            if (session.Length > 0)
            {
                Evaluate(nullProbe, session, isNull: true);
            }
        }

        /// <summary>Runs the matcher as data arrives (each time the response doubles) so a whole answer ends the wait.</summary>
        private Func<bool> EnoughFor(ProbeSession session, ServiceProbe probe)
        {
            var checkedAt = 0;
            return () =>
            {
                if (session.Length < checkedAt * 2)
                {
                    return false;
                }

                checkedAt = Math.Max(session.Length, 1);
                return _owner.Match(probe, session.Data, null, includeNull: true) is { IsSoft: false } f && !IsSsl(f);
            };
        }

        private void Evaluate(ServiceProbe probe, ProbeSession session, bool isNull, bool alsoNull = true)
        {
            var data = session.Data.ToArray();
            string? softService;
            lock (_gate)
            {
                _anyData = true;
                _truncated |= session.Truncated;
                softService = _soft is null ? null : ProbeMatcher.StripTunnel(_soft.Service);
                if (isNull && _banner.Length == 0)
                {
                    _banner = data;
                }
            }

            var fingerprint = _owner.Match(probe, data, null, alsoNull);
            var tlsLike = !_tls && (LooksLikeTls(data) || (fingerprint is not null && IsSsl(fingerprint)));
            lock (_gate)
            {
                if (tlsLike)
                {
                    _sawTls = true;
                }

                if (fingerprint is { IsSoft: false } && !IsSsl(fingerprint))
                {
                    if (softService is not null && !ProbeMatcher.SameService(fingerprint.Service, softService))
                    {
                        // nmap keeps to the soft-matched service; a hard match elsewhere still beats nothing.
                        _hard ??= Identified(fingerprint, _banner, data, probe.Name);
                    }
                    else
                    {
                        _hard = Identified(fingerprint, _banner, data, probe.Name);
                    }

                    _done.Cancel();
                    return;
                }

                if (fingerprint is { IsSoft: true } && _soft is null && !IsSsl(fingerprint))
                {
                    _soft = fingerprint;
                    _softResponse = data;
                    _softProbe = probe.Name;
                }

                if (_fallbackResponse.Length == 0 || (isNull && _banner == data))
                {
                    _fallbackResponse = data;
                    _fallbackProbe = probe.Name;
                }
            }

            if (tlsLike)
            {
                StartTls();
            }
        }

        /// <summary>A probe that exists to find TLS (a ClientHello): pointless inside TLS.</summary>
        private static bool IsTlsProbe(ServiceProbe p) => p.Payload.Length > 2 && p.Payload[0] == 0x16 && p.Payload[1] == 0x03;

        private static bool IsSsl(ServiceFingerprint f) => string.Equals(f.Service, "ssl", StringComparison.OrdinalIgnoreCase);

        private void StartTls()
        {
            lock (_gate)
            {
                if (_tls || _tlsRun is not null || IsDone)
                {
                    return;
                }

                _tlsRun = Task.Run(RunTlsAsync, CancellationToken.None);
            }
        }

        /// <summary>The same search inside TLS. A completed handshake is decisive: its result ends the plain search.</summary>
        private async Task<ServiceIdentification?> RunTlsAsync()
        {
            var nested = new TcpRun(_owner, _target, tls: true, _slots, _done.Token);
            ServiceIdentification inner;
            try
            {
                inner = await nested.ExecuteAsync(null).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null;
            }

            if (!nested.HandshakeDone)
            {
                return null;
            }

            if (inner.Service is not null)
            {
                await _done.CancelAsync().ConfigureAwait(false);
            }

            return inner with { Tls = true };
        }

        private async Task<ProbeSession> OpenAsync(GrabConnection? given)
        {
            var connection = given ?? await _owner.Network.ConnectAsync(_target, Settings.Limits, _done.Token).ConfigureAwait(false);
            if (_tls)
            {
                try
                {
                    await connection.StartTlsAsync(_target.ServerName, cancellationToken: _done.Token).ConfigureAwait(false);
                    HandshakeDone = true;
                }
                catch
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }

            return new ProbeSession(connection, _owner.Time, Settings.MaxResponseBytes);
        }

        private ServiceIdentification Result(bool closedEarly)
        {
            var deadline = Outer.IsCancellationRequested;
            lock (_gate)
            {
                var result = _hard
                    ?? (_soft is not null ? Identified(_soft, _banner, _softResponse, _softProbe!) : null)
                    ?? (closedEarly && !_anyData
                        ? new ServiceIdentification { Service = "tcpwrapped", ProbeName = "NULL" }
                        : new ServiceIdentification { Banner = _banner, Response = _fallbackResponse, ProbeName = _fallbackProbe });
                if (_tls || (_sawTls && result.Service is null))
                {
                    result = result with { Tls = true };
                }

                var identified = result.Service is not null && !closedEarly;
                var outcome = identified ? GrabOutcome.Success
                    : closedEarly ? GrabOutcome.Closed
                    : deadline ? GrabOutcome.IoTimeout
                    : _anyData ? GrabOutcome.Success
                    : GrabOutcome.IoTimeout;
                var error = outcome switch
                {
                    GrabOutcome.Closed => "closed by peer without sending data (tcpwrapped)",
                    GrabOutcome.IoTimeout when _anyData => $"per-target deadline reached after {Math.Max(_banner.Length, _fallbackResponse.Length)} bytes",
                    GrabOutcome.IoTimeout when deadline => $"no banner and no answer to {_sent} probes before the per-target deadline",
                    GrabOutcome.IoTimeout => $"no banner and no answer to {_sent} probes",
                    _ => null,
                };
                return result with
                {
                    Banner = _banner.Length > 0 ? _banner : result.Banner,
                    Outcome = outcome,
                    Error = error,
                    Truncated = _truncated,
                    ProbesSent = _sent,
                };
            }
        }

        private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    }

    internal IGrabNetwork Network => network;

    internal TimeProvider Time => time;

    internal ServiceFingerprint? Match(ServiceProbe probe, ReadOnlySpan<byte> data, string? soft, bool includeNull)
        => matcher.Match(probe, data, soft, includeNull);
}
