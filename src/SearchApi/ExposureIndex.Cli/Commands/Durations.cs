using System.Globalization;

namespace ExposureIndex.Cli.Commands;

/// <summary>Durations as people type them: 500ms, 3s, 2m, 1h, or a bare number of seconds.</summary>
internal static class Durations
{
    public static TimeSpan Parse(string option, string text)
    {
        text = text.Trim();
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1),
            _ when text.EndsWith('m') => (text[..^1], 60),
            _ when text.EndsWith('h') => (text[..^1], 3600),
            _ => (text, 1),
        };

        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value <= 0 || value * scale > 86400 * 7)
        {
            throw new CliException($"{option} '{text}' is not a duration like 500ms, 3s or 2m", 2);
        }

        return TimeSpan.FromSeconds(value * scale);
    }
}
