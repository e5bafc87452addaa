using System.Globalization;

namespace ExposureIndex.Crawler.RateLimiting;

/// <summary>
/// The global <c>--rate</c>: new connection attempts (or packets) per second, on an injected
/// <see cref="TimeProvider"/>. A token bucket written as the Generic Cell Rate Algorithm (ITU-T I.371 §4.4.2,
/// "virtual scheduling"): permit k may start at TAT - tau, where TAT advances by 1/rate per permit and tau allows
/// <see cref="Burst"/> permits at once after a quiet spell. Over any window of W seconds at most
/// rate * W + Burst permits are granted, and a caller that keeps asking gets rate * W - 1 at least, so with the
/// default burst (1% of a second's worth) the rate holds within about 1% over any window of a second or more.
/// </summary>
/// <remarks>
/// <see cref="Reserve"/> books the slots at once and says how long to wait, so waiting callers queue in arrival
/// order without a lock held while they sleep. A waiter that wakes late (timer granularity) is made up for by
/// the burst allowance rather than lost, which is why the burst should cover a few milliseconds at high rates.
/// Time is kept in timestamp ticks scaled by 2^16 as Int128, exact enough at any rate and for any uptime.
/// </remarks>
internal sealed class TokenBucket
{
    private const int Scale = 1 << 16;
    private readonly TimeProvider _time;
    private readonly Int128 _interval; // scaled ticks per permit
    private readonly Int128 _tolerance; // (burst - 1) * interval
    private readonly Lock _sync = new();
    private Int128 _theoreticalArrival;
    private long _granted;

    public TokenBucket(double permitsPerSecond, int burst, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (!double.IsFinite(permitsPerSecond) || permitsPerSecond <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(permitsPerSecond), permitsPerSecond, "the rate must be a positive number of permits per second");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _time = time;
        Rate = permitsPerSecond;
        Burst = burst;
        var interval = (Int128)Math.Round(time.TimestampFrequency * (double)Scale / permitsPerSecond);
        _interval = interval < 1 ? 1 : interval;
        _tolerance = (burst - 1) * _interval;
        _theoreticalArrival = Now();
    }

    public double Rate { get; }

    public int Burst { get; }

    /// <summary>Permits handed out so far (reserved, whether or not their wait is over).</summary>
    public long Granted => Interlocked.Read(ref _granted);

    /// <summary>The default burst: 1% of a second's permits (at least 1), enough to absorb timer lateness.</summary>
    public static int DefaultBurst(double permitsPerSecond)
        => (int)Math.Clamp(Math.Ceiling(permitsPerSecond / 100), 1, int.MaxValue);

    public static TokenBucket PerSecond(double permitsPerSecond, TimeProvider time)
        => new(permitsPerSecond, DefaultBurst(permitsPerSecond), time);

    /// <summary>Books <paramref name="permits"/> slots; returns how long to wait before using them (zero: now).</summary>
    public TimeSpan Reserve(int permits = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permits, 1);
        Int128 wait;
        lock (_sync)
        {
            var now = Now();
            var tat = _theoreticalArrival > now ? _theoreticalArrival : now;
            var lastAllowed = tat + ((permits - 1) * _interval) - _tolerance;
            _theoreticalArrival = tat + (permits * _interval);
            wait = lastAllowed - now;
        }

        Interlocked.Add(ref _granted, permits);
        return wait <= 0 ? TimeSpan.Zero : ToTimeSpan(wait);
    }

    /// <summary>Takes <paramref name="permits"/> only if they are available now; an expected miss, so no exception.</summary>
    public bool TryAcquire(int permits = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permits, 1);
        lock (_sync)
        {
            var now = Now();
            var tat = _theoreticalArrival > now ? _theoreticalArrival : now;
            if (tat + ((permits - 1) * _interval) - _tolerance > now)
            {
                return false;
            }

            _theoreticalArrival = tat + (permits * _interval);
        }

        Interlocked.Add(ref _granted, permits);
        return true;
    }

    /// <summary>Waits (on the injected clock) until <paramref name="permits"/> may be used.</summary>
    public ValueTask AcquireAsync(int permits = 1, CancellationToken cancellationToken = default)
    {
        var wait = Reserve(permits);
        return wait == TimeSpan.Zero ? ValueTask.CompletedTask : new ValueTask(Task.Delay(wait, _time, cancellationToken));
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Rate:0.###}/s (burst {Burst})");

    private Int128 Now() => (Int128)_time.GetTimestamp() * Scale;

    private TimeSpan ToTimeSpan(Int128 scaledTicks)
    {
        // Round up: waking a tick early would let a permit through before its slot.
        var seconds = (double)scaledTicks / Scale / _time.TimestampFrequency;
        var ticks = Math.Ceiling(seconds * TimeSpan.TicksPerSecond);
        return ticks >= TimeSpan.MaxValue.Ticks ? TimeSpan.MaxValue : TimeSpan.FromTicks((long)ticks);
    }
}
