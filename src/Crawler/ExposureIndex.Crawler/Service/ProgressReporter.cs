using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ExposureIndex.Crawler.Service;

/// <summary>
/// The crawl's progress for people and machines: on a terminal a live line rewritten in place
/// (<c>done, rate, open found, ETA</c>), on a pipe or log one line every <c>logInterval</c>; at the end a summary;
/// and <see cref="StatsJson"/> for scripts. The rate is measured over a sliding window of recent readings, so
/// it follows the current speed rather than the average since start. Time comes only from the snapshots.
/// </summary>
internal sealed class ProgressReporter(TextWriter output, bool interactive, TimeSpan? rateWindow = null, TimeSpan? logInterval = null)
{
    private readonly Queue<(TimeSpan At, ulong Done)> _window = new();
    private readonly TimeSpan _rateWindow = rateWindow ?? TimeSpan.FromSeconds(10);
    private readonly TimeSpan _logInterval = logInterval ?? TimeSpan.FromSeconds(30);
    private TimeSpan? _lastLogged;
    private int _lastWidth;

    /// <summary>Positions per second over the window (0 until two readings exist).</summary>
    public double Rate { get; private set; }

    /// <summary>Takes a reading and, when due, writes the line.</summary>
    public void Report(SweepSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Observe(snapshot);
        var line = FormatLine(snapshot, Rate);
        if (interactive)
        {
            // \r returns to the line start; pad over a longer previous line.
            var padded = line.Length < _lastWidth ? line + new string(' ', _lastWidth - line.Length) : line;
            output.Write('\r');
            output.Write(padded);
            output.Flush();
            _lastWidth = line.Length;
            return;
        }

        if (_lastLogged is null || snapshot.Elapsed - _lastLogged.Value >= _logInterval)
        {
            output.WriteLine(line);
            _lastLogged = snapshot.Elapsed;
        }
    }

    /// <summary>Ends the live line (on a terminal) without a summary.</summary>
    public void EndLine()
    {
        if (interactive && _lastWidth > 0)
        {
            output.WriteLine();
            output.Flush();
            _lastWidth = 0;
        }
    }

    /// <summary>Ends the live line and writes the summary.</summary>
    public void Finish(SweepSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (interactive && _lastWidth > 0)
        {
            output.WriteLine();
        }

        output.WriteLine(FormatSummary(snapshot));
        output.Flush();
    }

    public static string FormatLine(SweepSnapshot s, double rate)
    {
        ArgumentNullException.ThrowIfNull(s);
        var percent = s.Planned == 0 ? 100.0 : 100.0 * s.Done / s.Planned;
        var remaining = s.Planned > s.Done ? s.Planned - s.Done : 0;
        var eta = rate > 0 ? FormatDuration(TimeSpan.FromSeconds(Math.Min(remaining / rate, TimeSpan.MaxValue.TotalSeconds / 2))) : "--";
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{percent,5:0.0}% {s.Done:N0}/{s.Planned:N0} done, {rate:N0}/s, open {s.Open:N0}");
        if (s.RecordsWritten > 0 || s.RecordsAcknowledged > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", records {s.RecordsAcknowledged:N0}/{s.RecordsWritten:N0} acked");
        }

        if (s.Spooled > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {s.Spooled:N0} spooled");
        }

        text.Append(", ETA ").Append(remaining == 0 ? "0s" : eta);
        return text.ToString();
    }

    public static string FormatSummary(SweepSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var seconds = Math.Max(s.Elapsed.TotalSeconds, 1e-9);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{(s.Cancelled ? "Stopped" : "Finished")} shard {s.Shard} ({s.Mode}): {s.Done:N0} of {s.Planned:N0} positions in {FormatDuration(s.Elapsed)}");
        text.Append(CultureInfo.InvariantCulture, $" ({s.Attempted / seconds:N0}/s); open {s.Open:N0}, closed {s.Closed:N0}, no answer {s.Filtered:N0}");
        if (s.ResumedFrom > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"; resumed at {s.ResumedFrom:N0}");
        }

        text.Append(CultureInfo.InvariantCulture, $"; records written {s.RecordsWritten:N0}, acknowledged {s.RecordsAcknowledged:N0}, rejected {s.RecordsRejected:N0}");
        if (s.Spooled > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {s.Spooled:N0} still spooled");
        }

        return text.ToString();
    }

    /// <summary>Machine-readable stats: one JSON object, snake_case keys, stable (append-only) names.</summary>
    public static string StatsJson(SweepSnapshot s, double rate)
    {
        ArgumentNullException.ThrowIfNull(s);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("mode", s.Mode);
            json.WriteString("shard", s.Shard);
            json.WriteNumber("planned", s.Planned);
            json.WriteNumber("done", s.Done);
            json.WriteNumber("resumed_from", s.ResumedFrom);
            json.WriteNumber("attempted", s.Attempted);
            json.WriteNumber("open", s.Open);
            json.WriteNumber("closed", s.Closed);
            json.WriteNumber("filtered", s.Filtered);
            json.WriteNumber("records_written", s.RecordsWritten);
            json.WriteNumber("records_acknowledged", s.RecordsAcknowledged);
            json.WriteNumber("records_rejected", s.RecordsRejected);
            json.WriteNumber("spooled", s.Spooled);
            json.WriteNumber("elapsed_seconds", Math.Round(s.Elapsed.TotalSeconds, 3));
            json.WriteNumber("rate_per_second", Math.Round(rate, 1));
            if (s.RateLimit is { } limit)
            {
                json.WriteNumber("rate_limit", limit);
            }
            else
            {
                json.WriteNull("rate_limit");
            }

            json.WriteBoolean("cancelled", s.Cancelled);
            json.WriteBoolean("complete", !s.Cancelled && s.Done == s.Planned && s.Spooled == 0 && s.RecordsAcknowledged + s.RecordsRejected == s.RecordsWritten);
            // Appended later (names are append-only): the seed as a string, since a 64-bit value does not survive a double.
            json.WriteString("scan_id", s.ScanId);
            if (s.Seed is { } seed)
            {
                json.WriteString("seed", seed.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                json.WriteNull("seed");
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary><c>45s</c>, <c>3m05s</c>, <c>2h07m</c>, <c>3d04h</c>.</summary>
    public static string FormatDuration(TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            value = TimeSpan.Zero;
        }

        return value.TotalSeconds switch
        {
            < 60 => string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0}s"),
            < 3600 => string.Create(CultureInfo.InvariantCulture, $"{(int)value.TotalMinutes}m{value.Seconds:00}s"),
            < 86400 => string.Create(CultureInfo.InvariantCulture, $"{(int)value.TotalHours}h{value.Minutes:00}m"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{(int)value.TotalDays}d{value.Hours:00}h"),
        };
    }

    private void Observe(SweepSnapshot snapshot)
    {
        _window.Enqueue((snapshot.Elapsed, snapshot.Done));
        // Bounded: drops readings older than the window, keeping at least two.
        while (_window.Count > 2 && snapshot.Elapsed - _window.Peek().At > _rateWindow)
        {
            _window.Dequeue();
        }

        var (firstAt, firstDone) = _window.Peek();
        var span = (snapshot.Elapsed - firstAt).TotalSeconds;
        Rate = span > 0 && snapshot.Done >= firstDone ? (snapshot.Done - firstDone) / span : Rate;
    }
}
