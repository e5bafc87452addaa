using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Checkpointing;

/// <summary>The checkpoint on disk refuses to resume this plan; the message says why and what to do.</summary>
public sealed class CheckpointMismatchException : Exception
{
    public CheckpointMismatchException()
    {
    }

    public CheckpointMismatchException(string message)
        : base(message)
    {
    }

    public CheckpointMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// One shard's checkpoint file. <see cref="Save"/> replaces it atomically (<see cref="DurableFile"/>), so an
/// interrupted write leaves the previous checkpoint intact; <see cref="ResumePosition"/> is what
/// <c>--resume</c> does: no file means start from 0, a file for another plan is refused.
/// </summary>
internal sealed class CheckpointStore(string path)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path ?? throw new ArgumentNullException(nameof(path)));

    /// <summary>The default file of a shard in <paramref name="directory"/>: <c>sweep-K-of-N.checkpoint.json</c>.</summary>
    public static CheckpointStore InDirectory(string directory, ShardSpec shard)
        => new(System.IO.Path.Combine(directory, $"sweep-{shard.Index}-of-{shard.Count}.checkpoint.json"));

    public void Save(SweepCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        DurableFile.WriteAtomically(Path, checkpoint.ToJson());
    }

    /// <summary>Reads the checkpoint; false with an empty error when there is none, false with an error when it is unreadable.</summary>
    public bool TryLoad(out SweepCheckpoint? checkpoint, out string error)
    {
        checkpoint = null;
        error = string.Empty;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"cannot read checkpoint {Path}: {e.Message}";
            return false;
        }

        return SweepCheckpoint.TryParse(bytes, Path, out checkpoint, out error);
    }

    /// <summary>
    /// The local position to start <paramref name="plan"/> from: 0 without a checkpoint, the saved position with
    /// one that matches. Throws <see cref="CheckpointMismatchException"/> for an unreadable checkpoint or one
    /// written for a different plan, seed or shard; resuming it would skip or repeat work.
    /// </summary>
    public ulong ResumePosition(SweepPlan plan, out SweepCheckpoint? checkpoint)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (!TryLoad(out checkpoint, out var error))
        {
            if (error.Length > 0)
            {
                throw new CheckpointMismatchException($"{error}; delete it to start the sweep over");
            }

            return 0;
        }

        var mismatch = checkpoint!.MismatchWith(plan);
        if (mismatch is not null)
        {
            throw new CheckpointMismatchException($"refusing to resume from {Path}: {mismatch}. Run without --resume (or delete the file) to start over");
        }

        return checkpoint.Position;
    }

    public void Delete()
    {
        File.Delete(Path);
    }
}
