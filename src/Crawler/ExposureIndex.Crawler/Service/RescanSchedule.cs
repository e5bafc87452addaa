using System.Globalization;

namespace ExposureIndex.Crawler.Service;

/// <summary>
/// When the service sweeps again. Three forms:
/// <list type="bullet">
/// <item><c>once</c>: one sweep, then the service idles (health stays up, metrics stay readable).</item>
/// <item>An interval, <c>every 6h</c>, <c>@every 90m</c> or just <c>12h</c> (units s, m, h, d; combinable as <c>1h30m</c>):
/// sweeps start that long after the previous start; a sweep that overruns is followed by the next at once.</item>
/// <item>Five cron fields, <c>minute hour day-of-month month day-of-week</c> in UTC, each <c>*</c>, a number, a
/// range <c>a-b</c>, a step <c>*/n</c> or <c>a-b/n</c>, or a comma list of those (POSIX crontab; day-of-week 0-7
/// with 0 and 7 Sunday; when both day fields are restricted, either may match, as in Vixie cron).</item>
/// </list>
/// </summary>
internal abstract class RescanSchedule
{
    public const int MaxYearsSearched = 5;

    /// <summary>The text it was parsed from.</summary>
    public required string Text { get; init; }

    /// <summary>The first start strictly after <paramref name="after"/>; null when there is none (once, or an impossible date).</summary>
    public abstract DateTimeOffset? Next(DateTimeOffset after, DateTimeOffset? lastStart);

    public override string ToString() => Text;

    public static bool TryParse(string? text, out RescanSchedule? schedule, out string error)
    {
        schedule = null;
        error = string.Empty;
        var trimmed = text?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            error = "the schedule is empty; give 'once', an interval such as 'every 24h', or five cron fields";
            return false;
        }

        if (trimmed.Equals("once", StringComparison.OrdinalIgnoreCase))
        {
            schedule = new OnceSchedule { Text = trimmed };
            return true;
        }

        var interval = trimmed;
        foreach (var prefix in new[] { "@every ", "every " })
        {
            if (interval.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                interval = interval[prefix.Length..].Trim();
            }
        }

        if (interval.Length > 0 && char.IsAsciiDigit(interval[0]) && !interval.Contains(' ', StringComparison.Ordinal))
        {
            if (!DurationText.TryParse(interval, out var period, out error))
            {
                return false;
            }

            if (period < TimeSpan.FromMinutes(1))
            {
                error = $"interval {interval} is shorter than a minute; a sweep cannot usefully restart that often";
                return false;
            }

            schedule = new IntervalSchedule { Text = trimmed, Period = period };
            return true;
        }

        return CronSchedule.TryParseCron(trimmed, out schedule, out error);
    }

    private sealed class OnceSchedule : RescanSchedule
    {
        public override DateTimeOffset? Next(DateTimeOffset after, DateTimeOffset? lastStart) => lastStart is null ? after : null;
    }

    private sealed class IntervalSchedule : RescanSchedule
    {
        public required TimeSpan Period { get; init; }

        public override DateTimeOffset? Next(DateTimeOffset after, DateTimeOffset? lastStart)
        {
            if (lastStart is null)
            {
                return after;
            }

            var next = lastStart.Value + Period;
            return next > after ? next : after;
        }
    }
}

/// <summary>The cron form of <see cref="RescanSchedule"/>; fields become bit sets, and Next walks days, then hours and minutes.</summary>
internal sealed class CronSchedule : RescanSchedule
{
    private static readonly (string Name, int Min, int Max)[] Fields =
        [("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31), ("month", 1, 12), ("day-of-week", 0, 7)];

    private ulong _minutes;
    private ulong _hours;
    private ulong _days;
    private ulong _months;
    private ulong _weekdays;
    private bool _dayRestricted;
    private bool _weekdayRestricted;

    public static bool TryParseCron(string text, out RescanSchedule? schedule, out string error)
    {
        schedule = null;
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 5)
        {
            error = $"'{text}' is neither 'once', an interval such as 'every 24h', nor five cron fields (minute hour day-of-month month day-of-week)";
            return false;
        }

        var sets = new ulong[5];
        for (var f = 0; f < 5; f++)
        {
            if (!TryParseField(parts[f], Fields[f].Min, Fields[f].Max, out sets[f], out var fieldError))
            {
                error = $"cron field {f + 1} ({Fields[f].Name}) '{parts[f]}': {fieldError}";
                return false;
            }
        }

        // Day-of-week 7 is Sunday too.
        if ((sets[4] & (1UL << 7)) != 0)
        {
            sets[4] |= 1;
        }

        schedule = new CronSchedule
        {
            Text = text,
            _minutes = sets[0],
            _hours = sets[1],
            _days = sets[2],
            _months = sets[3],
            _weekdays = sets[4] & 0x7F,
            _dayRestricted = parts[2] != "*",
            _weekdayRestricted = parts[4] != "*",
        };
        error = string.Empty;
        return true;
    }

    public override DateTimeOffset? Next(DateTimeOffset after, DateTimeOffset? lastStart)
    {
        var utc = after.ToUniversalTime();
        // Start at the next whole minute strictly after 'after'.
        var start = new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, TimeSpan.Zero).AddMinutes(1);
        var day = new DateTimeOffset(start.Year, start.Month, start.Day, 0, 0, 0, TimeSpan.Zero);
        // Bounded: at most MaxYearsSearched years of days; an impossible date (Feb 30) yields null.
        for (var d = 0; d < 366 * MaxYearsSearched; d++, day = day.AddDays(1))
        {
            if (!DayMatches(day))
            {
                continue;
            }

            for (var hour = 0; hour < 24; hour++)
            {
                if ((_hours & (1UL << hour)) == 0)
                {
                    continue;
                }

                for (var minute = 0; minute < 60; minute++)
                {
                    if ((_minutes & (1UL << minute)) == 0)
                    {
                        continue;
                    }

                    var candidate = day.AddHours(hour).AddMinutes(minute);
                    if (candidate >= start)
                    {
                        return candidate;
                    }
                }
            }
        }

        return null;
    }

    private bool DayMatches(DateTimeOffset day)
    {
        if ((_months & (1UL << day.Month)) == 0)
        {
            return false;
        }

        var dom = (_days & (1UL << day.Day)) != 0;
        var dow = (_weekdays & (1UL << (int)day.DayOfWeek)) != 0;
        return (_dayRestricted, _weekdayRestricted) switch
        {
            (true, true) => dom || dow,
            (true, false) => dom,
            (false, true) => dow,
            _ => true,
        };
    }

    private static bool TryParseField(string field, int min, int max, out ulong set, out string error)
    {
        set = 0;
        error = string.Empty;
        foreach (var item in field.Split(','))
        {
            var step = 1;
            var body = item;
            var slash = item.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                if (!int.TryParse(item.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1 || step > max)
                {
                    error = $"step '{item[(slash + 1)..]}' must be a number 1-{max}";
                    return false;
                }

                body = item[..slash];
            }

            int first;
            int last;
            if (body == "*")
            {
                (first, last) = (min, max);
            }
            else
            {
                var dash = body.IndexOf('-', StringComparison.Ordinal);
                var firstText = dash >= 0 ? body[..dash] : body;
                var lastText = dash >= 0 ? body[(dash + 1)..] : body;
                if (!int.TryParse(firstText, NumberStyles.None, CultureInfo.InvariantCulture, out first)
                    || !int.TryParse(lastText, NumberStyles.None, CultureInfo.InvariantCulture, out last))
                {
                    error = $"'{body}' is not *, a number or a range a-b (names like MON are not supported)";
                    return false;
                }

                if (first < min || last > max || first > last)
                {
                    error = $"'{body}' is outside {min}-{max} or backwards";
                    return false;
                }

                if (slash >= 0 && dash < 0)
                {
                    // "a/n" means a-max/n (Vixie cron).
                    last = max;
                }
            }

            for (var v = first; v <= last; v += step)
            {
                set |= 1UL << v;
            }
        }

        return true;
    }
}
