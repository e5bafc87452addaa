using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExposureIndex.Crawler.Service;

/// <summary>What the scheduler is doing.</summary>
internal enum SchedulerState
{
    Starting = 0,
    Waiting = 1,
    Sweeping = 2,
    Idle = 3,
    Stopped = 4,
}

/// <summary>A snapshot of the scheduler, for health and metrics.</summary>
internal sealed record SchedulerStatus(
    SchedulerState State,
    long Cycles,
    long Failures,
    int ConsecutiveFailures,
    DateTimeOffset? NextStart,
    DateTimeOffset? LastStart,
    DateTimeOffset? LastSuccess,
    string? LastError);

/// <summary>
/// Runs a sweep on a <see cref="RescanSchedule"/>, on an injected <see cref="TimeProvider"/>: waits for the
/// next start, runs the sweep to its end, records the outcome, repeats. A failed sweep is logged and counted
/// (health turns degraded) and the schedule goes on; cancellation of the token given to <see cref="RunAsync"/> is
/// the shutdown, not an error: the running sweep gets the same token to drain and checkpoint.
/// </summary>
internal sealed partial class RescanScheduler(RescanSchedule schedule, Func<long, CancellationToken, Task> sweep, TimeProvider time, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly Lock _sync = new();
    private SchedulerStatus _status = new(SchedulerState.Starting, 0, 0, 0, null, null, null, null);

    public SchedulerStatus Status
    {
        get
        {
            lock (_sync)
            {
                return _status;
            }
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(sweep);
        DateTimeOffset? lastStart = null;
        try
        {
            // Bounded by the schedule (once ends) and by the stop token.
            while (!stop.IsCancellationRequested)
            {
                var now = time.GetUtcNow();
                var next = schedule.Next(now, lastStart);
                if (next is null)
                {
                    Update(s => s with { State = SchedulerState.Idle, NextStart = null });
                    NoMoreSweeps(_logger, schedule.Text);
                    await Task.Delay(Timeout.InfiniteTimeSpan, time, stop).ConfigureAwait(false);
                    return;
                }

                Update(s => s with { State = SchedulerState.Waiting, NextStart = next });
                var wait = next.Value - now;
                if (wait > TimeSpan.Zero)
                {
                    SweepScheduled(_logger, next.Value, wait);
                    await Task.Delay(wait, time, stop).ConfigureAwait(false);
                }

                lastStart = time.GetUtcNow();
                var cycle = Status.Cycles + 1;
                Update(s => s with { State = SchedulerState.Sweeping, LastStart = lastStart, Cycles = cycle, NextStart = null });
                SweepStarting(_logger, cycle);
                try
                {
                    await sweep(cycle, stop).ConfigureAwait(false);
                    if (stop.IsCancellationRequested)
                    {
                        break;
                    }

                    var finished = time.GetUtcNow();
                    Update(s => s with { LastSuccess = finished, ConsecutiveFailures = 0, LastError = null });
                    SweepFinished(_logger, cycle, finished - lastStart.Value);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e)
                {
                    Update(s => s with { Failures = s.Failures + 1, ConsecutiveFailures = s.ConsecutiveFailures + 1, LastError = e.Message });
                    if (e is Options.TargetsRefusedException or Discovery.SynUnavailableException or Checkpointing.CheckpointMismatchException)
                    {
                        // The assignment itself is wrong: the message says what to change; a stack trace would only hide it.
                        SweepRefused(_logger, cycle, e.Message);
                    }
                    else
                    {
                        SweepFailed(_logger, e, cycle);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            Update(s => s with { State = SchedulerState.Stopped, NextStart = null });
        }
    }

    private void Update(Func<SchedulerStatus, SchedulerStatus> change)
    {
        lock (_sync)
        {
            _status = change(_status);
        }
    }

    [LoggerMessage(EventId = 2440, Level = LogLevel.Information, Message = "Next sweep at {Start:u} (in {Wait})")]
    private static partial void SweepScheduled(ILogger logger, DateTimeOffset start, TimeSpan wait);

    [LoggerMessage(EventId = 2441, Level = LogLevel.Information, Message = "Sweep {Cycle} starting")]
    private static partial void SweepStarting(ILogger logger, long cycle);

    [LoggerMessage(EventId = 2442, Level = LogLevel.Information, Message = "Sweep {Cycle} finished in {Elapsed}")]
    private static partial void SweepFinished(ILogger logger, long cycle, TimeSpan elapsed);

    [LoggerMessage(EventId = 2443, Level = LogLevel.Error, Message = "Sweep {Cycle} failed; the schedule goes on")]
    private static partial void SweepFailed(ILogger logger, Exception exception, long cycle);

    [LoggerMessage(EventId = 2445, Level = LogLevel.Error, Message = "Sweep {Cycle} refused: {Reason}; fix the configuration (the schedule goes on)")]
    private static partial void SweepRefused(ILogger logger, long cycle, string reason);

    [LoggerMessage(EventId = 2444, Level = LogLevel.Information, Message = "Schedule '{Schedule}' has no further sweeps; idling")]
    private static partial void NoMoreSweeps(ILogger logger, string schedule);
}
