using System.Globalization;
using System.Text.Json;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Checkpointing;

/// <summary>
/// How far one shard of a sweep got: every local position below <see cref="Position"/> is done. Tied to its plan
/// by <see cref="PlanHash"/> (targets after policy and exclusions, ports, seed, shard), so a changed plan refuses
/// to resume instead of silently skipping or repeating work. Stored as one small JSON object.
/// </summary>
internal sealed record SweepCheckpoint
{
    public const string CurrentFormat = "exposure-sweep-checkpoint/1";

    public string Format { get; init; } = CurrentFormat;

    public required string PlanHash { get; init; }

    public required ulong Seed { get; init; }

    public required ShardSpec Shard { get; init; }

    /// <summary>Local positions below this are done; the resume point.</summary>
    public required ulong Position { get; init; }

    /// <summary>Positions in the shard; Position == Count means the shard is finished.</summary>
    public required ulong Count { get; init; }

    /// <summary>Open ports found so far (all runs of this sweep), for the summary of a resumed sweep.</summary>
    public long Open { get; init; }

    /// <summary>Records handed to the sink so far (all runs).</summary>
    public long Records { get; init; }

    public string? ScanId { get; init; }

    public DateTimeOffset UpdatedUtc { get; init; }

    public bool IsFinished => Position == Count;

    public static SweepCheckpoint For(SweepPlan plan, ulong position, DateTimeOffset now, long open = 0, long records = 0, string? scanId = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new SweepCheckpoint
        {
            PlanHash = plan.Hash,
            Seed = plan.Seed,
            Shard = plan.Shard,
            Position = position,
            Count = plan.Order.Count,
            Open = open,
            Records = records,
            ScanId = scanId,
            UpdatedUtc = now,
        };
    }

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("format", Format);
            json.WriteString("plan_hash", PlanHash);
            // Seeds and positions are 64-bit: strings, so no JSON reader rounds them through a double.
            json.WriteString("seed", Seed.ToString(CultureInfo.InvariantCulture));
            json.WriteString("shard", Shard.ToString());
            json.WriteString("position", Position.ToString(CultureInfo.InvariantCulture));
            json.WriteString("count", Count.ToString(CultureInfo.InvariantCulture));
            json.WriteNumber("open", Open);
            json.WriteNumber("records", Records);
            if (ScanId is not null)
            {
                json.WriteString("scan_id", ScanId);
            }

            json.WriteString("updated_utc", UpdatedUtc.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Parses a checkpoint file's bytes; the error names the broken field.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, string source, out SweepCheckpoint? checkpoint, out string error)
    {
        checkpoint = null;
        try
        {
            using var document = JsonDocument.Parse(utf8.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = $"checkpoint {source} is not a JSON object";
                return false;
            }

            var format = String(root, "format");
            if (format != CurrentFormat)
            {
                error = $"checkpoint {source} has format '{format}', expected '{CurrentFormat}'";
                return false;
            }

            var shardText = String(root, "shard");
            if (!ShardSpec.TryParse(shardText, out var shard, out var shardError))
            {
                error = $"checkpoint {source}: field 'shard': {shardError}";
                return false;
            }

            var position = UInt64(root, "position", source);
            var count = UInt64(root, "count", source);
            if (position > count)
            {
                error = $"checkpoint {source}: position {position} is beyond the shard's {count} positions";
                return false;
            }

            checkpoint = new SweepCheckpoint
            {
                Format = format,
                PlanHash = String(root, "plan_hash"),
                Seed = UInt64(root, "seed", source),
                Shard = shard,
                Position = position,
                Count = count,
                Open = root.TryGetProperty("open", out var open) ? open.GetInt64() : 0,
                Records = root.TryGetProperty("records", out var records) ? records.GetInt64() : 0,
                ScanId = root.TryGetProperty("scan_id", out var scanId) ? scanId.GetString() : null,
                UpdatedUtc = root.TryGetProperty("updated_utc", out var updated)
                    ? DateTimeOffset.Parse(updated.GetString() ?? string.Empty, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)
                    : default,
            };
            error = string.Empty;
            return true;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            error = $"checkpoint {source} is unreadable: {e.Message}";
            return false;
        }
    }

    /// <summary>Why this checkpoint cannot resume <paramref name="plan"/>; null when it can.</summary>
    public string? MismatchWith(SweepPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (Seed != plan.Seed)
        {
            return string.Create(CultureInfo.InvariantCulture, $"it was written with seed {Seed}, this run uses seed {plan.Seed}");
        }

        if (Shard != plan.Shard)
        {
            return $"it was written for shard {Shard}, this run is shard {plan.Shard}";
        }

        if (!string.Equals(PlanHash, plan.Hash, StringComparison.Ordinal) || Count != plan.Order.Count)
        {
            return "the targets, ports or exclusions changed since it was written (plan hash differs)";
        }

        return null;
    }

    private static string String(JsonElement root, string name)
        => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException($"field '{name}' is missing or not a string");

    private static ulong UInt64(JsonElement root, string name, string source)
        => ulong.TryParse(String(root, name), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"field '{name}' of {source} is not an unsigned 64-bit decimal");
}
