using ExposureIndex.Crawler.Service;

namespace ExposureIndex.Cli.Commands;

/// <summary>
/// Duration options as people type them: the Crawler's own syntax (500ms, 3s, 2m, 1h30m, 1d), which its config
/// file and rescan schedules use too, or a bare number of seconds (2.5), as nmap's timing options take.
/// </summary>
internal static class Durations
{
    private static readonly TimeSpan Longest = TimeSpan.FromDays(7);

    public static TimeSpan Parse(string option, string text)
    {
        var trimmed = text.Trim();
        var value = DurationText.TryParseBareNumber(trimmed, out var seconds)
            ? (seconds > 0 && seconds <= Longest.TotalSeconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.Zero)
            : DurationText.TryParse(trimmed, out var duration, out _) ? duration : TimeSpan.Zero;
        if (value > TimeSpan.Zero && value <= Longest)
        {
            return value;
        }

        throw new CliException($"{option} '{text}' is not a duration of at most 7 days like 500ms, 3s, 2m or 1h30m", 2);
    }
}
