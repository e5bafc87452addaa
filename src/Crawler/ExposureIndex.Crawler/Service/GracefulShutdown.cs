using System.Runtime.InteropServices;

namespace ExposureIndex.Crawler.Service;

/// <summary>
/// SIGTERM (and SIGINT) turned into a two-stage stop, the shape Kubernetes expects (it sends SIGTERM, waits
/// terminationGracePeriodSeconds, then SIGKILL):
/// <list type="number">
/// <item>First signal: <see cref="Stopping"/> is cancelled. The sweep stops taking new positions; work in flight
/// finishes within its own deadlines; records are flushed (acknowledged or spooled); the checkpoint is written
/// at the low-water mark; the sink completes. The default termination is cancelled, so the process exits on its
/// own when that is done.</item>
/// <item>After <c>drainTimeout</c>, or at a second signal: <see cref="Aborting"/> is cancelled too. In-flight work
/// is abandoned; what memory holds is spooled; the checkpoint is written at the low-water mark, which never
/// passes unfinished work, so the abandoned positions are simply redone on resume.</item>
/// </list>
/// </summary>
internal sealed class GracefulShutdown : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _aborting;
    private readonly TimeSpan _drainTimeout;
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _requests;

    public GracefulShutdown(TimeSpan drainTimeout, TimeProvider time, bool registerSignals = true)
    {
        ArgumentNullException.ThrowIfNull(time);
        _drainTimeout = drainTimeout;
        _aborting = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        if (registerSignals)
        {
            foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT })
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    // We stop in order; the runtime's default (immediate exit) would skip drain and checkpoint.
                    context.Cancel = true;
                    RequestStop(context.Signal.ToString());
                }));
            }
        }
    }

    /// <summary>Cancelled at the first stop request: take no new work.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Cancelled at the second request or when the drain timeout expires: abandon in-flight work.</summary>
    public CancellationToken Aborting => _aborting.Token;

    /// <summary>The signal (or caller) that asked first; null while running.</summary>
    public string? Reason { get; private set; }

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Asks for a stop: the first call starts the drain, the second aborts. Thread-safe.</summary>
    public void RequestStop(string reason)
    {
        var request = Interlocked.Increment(ref _requests);
        if (request == 1)
        {
            Reason = reason;
            _stopping.Cancel();
            _aborting.CancelAfter(_drainTimeout);
        }
        else
        {
            _aborting.Cancel();
        }
    }

    /// <summary>
    /// Starts the drain unless it has started (a caller's own cancellation, e.g. the CLI's token on the same signal the
    /// registration here also sees); unlike <see cref="RequestStop"/> it never escalates to an abort. Thread-safe.
    /// </summary>
    public void Drain(string reason)
    {
        if (Volatile.Read(ref _requests) > 0 || _stopping.IsCancellationRequested)
        {
            return;
        }

        Reason ??= reason;
        _stopping.Cancel();
        _aborting.CancelAfter(_drainTimeout);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _stopping.Dispose();
        _aborting.Dispose();
    }
}
