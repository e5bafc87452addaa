using System.Globalization;

namespace ExposureIndex.Crawler.Service;

/// <summary>
/// The one duration syntax of the Crawler's options, its config file and its rescan schedules, and of the CLI's
/// duration options.
/// </summary>
public static class DurationText
{
    /// <summary>
    /// A plain decimal number without a unit (<c>5</c>, <c>2.5</c>). The CLI's duration options read it as seconds, as
    /// nmap's do; the Crawler's config refuses it, where TimeSpan's own syntax would read <c>5</c> as five days.
    /// </summary>
    public static bool TryParseBareNumber(string text, out double value)
        => double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>Durations like <c>500ms</c>, <c>90s</c>, <c>15m</c>, <c>6h</c>, <c>1d</c> or <c>1h30m</c>.</summary>
    public static bool TryParse(string text, out TimeSpan duration, out string error)
    {
        duration = TimeSpan.Zero;
        error = string.Empty;
        var i = 0;
        var any = false;
        // Bounded: every pass consumes digits and a unit.
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == start || i == text.Length || i - start > 9)
            {
                error = $"'{text}' is not a duration like 500ms, 90s, 15m, 6h, 1d or 1h30m";
                return false;
            }

            var value = long.Parse(text.AsSpan(start, i - start), CultureInfo.InvariantCulture);
            var milliseconds = i + 1 < text.Length && char.ToLowerInvariant(text[i]) == 'm' && char.ToLowerInvariant(text[i + 1]) == 's';
            var part = milliseconds ? TimeSpan.FromMilliseconds(value) : char.ToLowerInvariant(text[i]) switch
            {
                's' => TimeSpan.FromSeconds(value),
                'm' => TimeSpan.FromMinutes(value),
                'h' => TimeSpan.FromHours(value),
                'd' => TimeSpan.FromDays(value),
                _ => (TimeSpan?)null,
            };
            if (part is null)
            {
                error = $"'{text}': unknown unit '{text[i]}' (use ms, s, m, h or d)";
                return false;
            }

            duration += part.Value;
            any = true;
            i += milliseconds ? 2 : 1;
        }

        if (!any || duration <= TimeSpan.Zero || duration > TimeSpan.FromDays(366))
        {
            error = $"'{text}' must be a positive duration of at most 366 days";
            return false;
        }

        return true;
    }
}
