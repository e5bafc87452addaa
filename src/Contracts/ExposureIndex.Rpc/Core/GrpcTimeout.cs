namespace ExposureIndex.Rpc.Core;

/// <summary>
/// The <c>grpc-timeout</c> header (PROTOCOL-HTTP2 "Timeout"): at most 8 ASCII digits followed by one unit,
/// H (hours), M (minutes), S (seconds), m (milliseconds), u (microseconds) or n (nanoseconds).
/// </summary>
public static class GrpcTimeout
{
    /// <summary>The largest TimeoutValue: 8 digits.</summary>
    public const long MaxValue = 99_999_999;

    private const long TicksPerMicrosecond = 10;

    /// <summary>
    /// Parses a header value. An expected miss (malformed input) returns false. Zero is accepted
    /// and means the deadline has already passed.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> value, out TimeSpan timeout)
    {
        timeout = default;
        if (value.Length is < 2 or > 9)
        {
            return false;
        }

        long number = 0;
        var digits = value[..^1];
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            number = (number * 10) + (c - '0');
        }

        switch (value[^1])
        {
            case 'H':
                timeout = TimeSpan.FromTicks(number * TimeSpan.TicksPerHour);
                return true;
            case 'M':
                timeout = TimeSpan.FromTicks(number * TimeSpan.TicksPerMinute);
                return true;
            case 'S':
                timeout = TimeSpan.FromTicks(number * TimeSpan.TicksPerSecond);
                return true;
            case 'm':
                timeout = TimeSpan.FromTicks(number * TimeSpan.TicksPerMillisecond);
                return true;
            case 'u':
                timeout = TimeSpan.FromTicks(number * TicksPerMicrosecond);
                return true;
            case 'n':
                // Sub-tick remainders round up so that a non-zero timeout never becomes zero.
                timeout = TimeSpan.FromTicks((number + 99) / 100);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Formats a positive timeout with the finest unit whose value fits in 8 digits, rounding up so the
    /// peer never sees a shorter deadline than ours. Timeouts beyond 99,999,999 hours are clamped.
    /// </summary>
    public static string Format(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A grpc-timeout must be positive; an expired deadline fails locally instead.");
        }

        var ticks = timeout.Ticks;
        if (ticks <= MaxValue / 100)
        {
            return Number(ticks * 100, 'n');
        }

        ReadOnlySpan<(long TicksPerUnit, char Unit)> units =
        [
            (TicksPerMicrosecond, 'u'),
            (TimeSpan.TicksPerMillisecond, 'm'),
            (TimeSpan.TicksPerSecond, 'S'),
            (TimeSpan.TicksPerMinute, 'M'),
            (TimeSpan.TicksPerHour, 'H'),
        ];

        foreach (var (perUnit, unit) in units)
        {
            var value = (ticks / perUnit) + (ticks % perUnit == 0 ? 0 : 1);
            if (value <= MaxValue)
            {
                return Number(value, unit);
            }
        }

        return Number(MaxValue, 'H');
    }

    private static string Number(long value, char unit) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value}{unit}");
}
