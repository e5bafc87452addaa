using ExposureIndex.Crawler.Service;
using ExposureIndex.Crawler.Tests.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExposureIndex.Crawler.Tests.Service;

public sealed class RescanScheduleTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 5, 10, 17, 42, TimeSpan.Zero); // a Wednesday

    private static RescanSchedule Parse(string text)
    {
        Assert.True(RescanSchedule.TryParse(text, out var schedule, out var error), error);
        return schedule!;
    }

    [Theory]
    [InlineData("every 6h", 6 * 60)]
    [InlineData("@every 90m", 90)]
    [InlineData("12h", 12 * 60)]
    [InlineData("1h30m", 90)]
    [InlineData("1d", 24 * 60)]
    public void Interval_FirstRunsAtOnceThenEveryPeriodFromTheLastStart(string text, int minutes)
    {
        var schedule = Parse(text);
        Assert.Equal(T0, schedule.Next(T0, lastStart: null));
        Assert.Equal(T0.AddMinutes(minutes), schedule.Next(T0.AddMinutes(1), lastStart: T0));
        // An overrun: the next sweep starts at once.
        Assert.Equal(T0.AddMinutes(minutes * 2), schedule.Next(T0.AddMinutes(minutes * 2), lastStart: T0));
    }

    [Fact]
    public void Once_RunsOnceOnly()
    {
        var schedule = Parse("once");
        Assert.Equal(T0, schedule.Next(T0, null));
        Assert.Null(schedule.Next(T0.AddDays(1), T0));
    }

    [Theory]
    [InlineData("0 * * * *", "2025-03-05T11:00")]
    [InlineData("*/15 * * * *", "2025-03-05T10:30")]
    [InlineData("30 2 * * *", "2025-03-06T02:30")]
    [InlineData("0 0 1 * *", "2025-04-01T00:00")]
    [InlineData("0 6 * * 1", "2025-03-10T06:00")]
    [InlineData("0 6 * * 7", "2025-03-09T06:00")]
    [InlineData("0 0 29 2 *", "2028-02-29T00:00")]
    [InlineData("0 12 13 * 5", "2025-03-07T12:00")] // day 13 OR Friday: Friday the 7th comes first
    [InlineData("5-10/5 10 * * *", "2025-03-06T10:05")]
    [InlineData("18,20 10 5 3 *", "2025-03-05T10:18")]
    public void Cron_Next_IsTheFirstMatchingMinuteAfter(string text, string expected)
    {
        var next = Parse(text).Next(T0, lastStart: T0.AddHours(-1));
        Assert.Equal(DateTimeOffset.Parse(expected + ":00Z", System.Globalization.CultureInfo.InvariantCulture), next);
    }

    [Fact]
    public void Cron_ImpossibleDate_HasNoNext()
        => Assert.Null(Parse("0 0 30 2 *").Next(T0, null));

    [Fact]
    public void Interval_InMilliseconds_IsStillShorterThanAMinute()
    {
        Assert.False(RescanSchedule.TryParse("every 500ms", out _, out var error));
        Assert.Contains("shorter than a minute", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("every 10s", "shorter than a minute")]
    [InlineData("every 5x", "unknown unit")]
    [InlineData("every 400d", "at most 366 days")]
    [InlineData("* * * *", "five cron fields")]
    [InlineData("60 * * * *", "field 1 (minute)")]
    [InlineData("0 24 * * *", "field 2 (hour)")]
    [InlineData("0 0 0 * *", "field 3 (day-of-month)")]
    [InlineData("0 0 * 13 *", "field 4 (month)")]
    [InlineData("0 0 * * MON", "names like MON")]
    [InlineData("*/0 * * * *", "step")]
    public void TryParse_Invalid_SaysWhy(string text, string expected)
    {
        Assert.False(RescanSchedule.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scheduler_Interval_RunsOnTheClockAndRecordsOutcomes()
    {
        var time = new ManualTimeProvider(T0);
        var starts = new List<DateTimeOffset>();
        var release = new SemaphoreSlim(0);
        var scheduler = new RescanScheduler(Parse("every 1h"), async (cycle, ct) =>
        {
            starts.Add(time.GetUtcNow());
            await release.WaitAsync(ct);
            if (cycle == 2)
            {
                throw new InvalidOperationException("indexer refused the plan (test)");
            }
        }, time, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var running = scheduler.RunAsync(stop.Token);

        await WaitForAsync(() => scheduler.Status.State == SchedulerState.Sweeping);
        Assert.Equal([T0], starts);
        time.Advance(TimeSpan.FromMinutes(20));
        release.Release();
        await WaitForAsync(() => scheduler.Status.State == SchedulerState.Waiting && time.PendingTimers > 0);
        Assert.Equal(T0.AddHours(1), scheduler.Status.NextStart);
        Assert.Equal(T0.AddMinutes(20), scheduler.Status.LastSuccess);

        time.Advance(TimeSpan.FromMinutes(40));
        await WaitForAsync(() => scheduler.Status.State == SchedulerState.Sweeping);
        release.Release();
        await WaitForAsync(() => scheduler.Status.ConsecutiveFailures == 1 && scheduler.Status.State == SchedulerState.Waiting && time.PendingTimers > 0);
        Assert.Contains("indexer refused", scheduler.Status.LastError, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromHours(1));
        await WaitForAsync(() => starts.Count == 3);
        Assert.Equal([T0, T0.AddHours(1), T0.AddHours(2)], starts);

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(SchedulerState.Stopped, scheduler.Status.State);
        Assert.Equal((3L, 1L), (scheduler.Status.Cycles, scheduler.Status.Failures));
    }

    [Fact]
    public async Task Scheduler_Once_IdlesAfterTheSweep()
    {
        var time = new ManualTimeProvider(T0);
        var runs = 0;
        var scheduler = new RescanScheduler(Parse("once"), (_, _) =>
        {
            runs++;
            return Task.CompletedTask;
        }, time);
        using var stop = new CancellationTokenSource();
        var running = scheduler.RunAsync(stop.Token);
        await WaitForAsync(() => scheduler.Status.State == SchedulerState.Idle);
        time.Advance(TimeSpan.FromDays(30));
        Assert.Equal(1, runs);
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        Assert.True(await ExposureIndex.TestCommon.Poll.UntilAsync(condition, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken), "condition not reached");
    }
}
