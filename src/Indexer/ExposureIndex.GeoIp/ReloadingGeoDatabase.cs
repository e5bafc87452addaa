using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Security.Cryptography;

namespace ExposureIndex.GeoIp;

/// <summary>Options for <see cref="ReloadingGeoDatabase"/>.</summary>
public sealed record ReloadingGeoDatabaseOptions
{
    /// <summary>How often the file is checked. A change is loaded once the file looks the same on two checks in a row.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock behind the poll timer (tests inject their own).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Where private copies of the database are written before they are mapped; null means the system temp folder.
    /// Mapping a copy means an operator overwriting the watched file in place can never fault the process.
    /// </summary>
    public string? SnapshotDirectory { get; init; }

    /// <summary>Options of each loaded database (verification on load is on by default).</summary>
    public GeoDatabaseOptions Database { get; init; } = new();

    /// <summary>Every problem with these options (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromDays(1))
        {
            errors.Add($"PollInterval must be between 10 ms and 1 day, not {PollInterval}.");
        }

        if (TimeProvider is null)
        {
            errors.Add("TimeProvider is required.");
        }

        if (Database is null)
        {
            errors.Add("Database options are required.");
        }
        else
        {
            errors.AddRange(Database.Validate());
        }

        return errors;
    }
}

/// <summary>What one check of the watched file did.</summary>
public enum GeoReloadOutcome
{
    /// <summary>The file is the one in service (or the one already rejected).</summary>
    Unchanged = 0,

    /// <summary>The file changed since the last check; it is loaded once it stops changing.</summary>
    Settling = 1,

    /// <summary>A new database was verified and put in service.</summary>
    Reloaded = 2,

    /// <summary>The new file failed to open or verify; the previous database stays in service.</summary>
    Rejected = 3,

    /// <summary>The file is missing (e.g. between delete and rename); the previous database stays in service.</summary>
    Missing = 4,
}

/// <summary>Raised after a new database went into service.</summary>
public sealed class GeoDatabaseReloadedEventArgs(string path, MmdbMetadata metadata, long generation) : EventArgs
{
    public string Path { get; } = path;

    public MmdbMetadata Metadata { get; } = metadata;

    public long Generation { get; } = generation;
}

/// <summary>Raised when a replacement was refused (the previous database stays in service) or a check failed.</summary>
public sealed class GeoDatabaseReloadFailedEventArgs(string path, Exception error) : EventArgs
{
    public string Path { get; } = path;

    public Exception Error { get; } = error;
}

/// <summary>
/// A <see cref="GeoDatabase"/> that follows its file while the server runs. The file is polled (size, mtime and a
/// hash of its last 4 KiB, so that replacement by rename and in-place overwrite are both seen); once a change has
/// settled, a private copy is mapped, verified, and swapped in atomically. In-flight lookups keep the old database
/// alive by reference counting; it is disposed when the last of them ends. A replacement that fails to open or
/// verify is refused, reported through <see cref="ReloadFailed"/>, and the old database stays in service.
/// </summary>
public sealed class ReloadingGeoDatabase : IGeoLookup, IDisposable
{
    private readonly ReloadingGeoDatabaseOptions _options;
    private readonly string _snapshotDirectory;
    private readonly Lock _checkLock = new();
    private readonly ITimer _timer;
    private Served? _current;
    private FileSignature? _loaded;
    private FileSignature? _pending;
    private FileSignature? _rejected;
    private long _generationCounter;

    private ReloadingGeoDatabase(string path, ReloadingGeoDatabaseOptions options)
    {
        Path = System.IO.Path.GetFullPath(path);
        _options = options;
        _snapshotDirectory = options.SnapshotDirectory ?? System.IO.Path.Combine(System.IO.Path.GetTempPath(), "exposureindex-geoip");
        Directory.CreateDirectory(_snapshotDirectory);

        var signature = FileSignature.Read(Path) ?? throw new FileNotFoundException($"GeoIP database not found: {Path}", Path);
        var loaded = Load(signature);
        _current = new Served(loaded.Database, ++_generationCounter);
        _loaded = loaded.Signature;
        _timer = options.TimeProvider.CreateTimer(_ => OnTimer(), null, options.PollInterval, options.PollInterval);
    }

    /// <summary>Raised (on the checking thread) after a new database went into service.</summary>
    public event EventHandler<GeoDatabaseReloadedEventArgs>? Reloaded;

    /// <summary>Raised (on the checking thread) when a replacement was refused or a check failed.</summary>
    public event EventHandler<GeoDatabaseReloadFailedEventArgs>? ReloadFailed;

    /// <summary>The watched file.</summary>
    public string Path { get; }

    /// <summary>1 for the first database, incremented at every swap.</summary>
    public long Generation => Current().Number;

    /// <summary>Metadata of the database in service.</summary>
    public MmdbMetadata Metadata => Current().Database.Reader.Metadata;

    public GeoDatabaseKind Kind => Current().Database.Kind;

    /// <summary>Opens, verifies and starts watching <paramref name="path"/>.</summary>
    /// <exception cref="MmdbFormatException">The initial file is not a valid MaxMind DB.</exception>
    public static ReloadingGeoDatabase Open(string path, ReloadingGeoDatabaseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new ReloadingGeoDatabaseOptions();
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        return new ReloadingGeoDatabase(path, options);
    }

    public bool TryGetLocation(IPAddress address, [NotNullWhen(true)] out GeoLocation? location)
    {
        var generation = Acquire();
        try
        {
            return generation.Database.TryGetLocation(address, out location);
        }
        finally
        {
            generation.Release();
        }
    }

    public bool TryGetNetworkOwner(IPAddress address, [NotNullWhen(true)] out NetworkOwner? owner)
    {
        var generation = Acquire();
        try
        {
            return generation.Database.TryGetNetworkOwner(address, out owner);
        }
        finally
        {
            generation.Release();
        }
    }

    /// <summary>Runs <paramref name="use"/> with the database in service held open (for raw <see cref="MmdbReader"/> access).</summary>
    public T Use<T>(Func<GeoDatabase, T> use)
    {
        ArgumentNullException.ThrowIfNull(use);
        var generation = Acquire();
        try
        {
            return use(generation.Database);
        }
        finally
        {
            generation.Release();
        }
    }

    /// <summary>Checks the file now (what the timer does): loads a change once it has settled.</summary>
    public GeoReloadOutcome CheckNow() => Check(force: false);

    /// <summary>Loads the file now, whether or not it changed or settled (e.g. on an operator's signal).</summary>
    public GeoReloadOutcome ReloadNow() => Check(force: true);

    public void Dispose()
    {
        _timer.Dispose();
        lock (_checkLock)
        {
            Interlocked.Exchange(ref _current, null)?.Release();
        }
    }

    private Served Acquire()
    {
        while (true)
        {
            var generation = Volatile.Read(ref _current) ?? throw new ObjectDisposedException(nameof(ReloadingGeoDatabase));
            if (generation.TryAcquire())
            {
                return generation;
            }

            // That generation was retired between the read and the acquire: the field already holds its successor.
        }
    }

    private Served Current() => Volatile.Read(ref _current) ?? throw new ObjectDisposedException(nameof(ReloadingGeoDatabase));

    private void OnTimer()
    {
        try
        {
            Check(force: false);
        }
#pragma warning disable CA1031 // A timer callback must not throw: anything unexpected is reported, and the old database keeps serving.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RaiseFailed(ex);
        }
    }

    private GeoReloadOutcome Check(bool force)
    {
        // Overlapping timer ticks simply wait; each check is short unless it loads.
        lock (_checkLock)
        {
            if (Volatile.Read(ref _current) is null)
            {
                return GeoReloadOutcome.Unchanged;
            }

            FileSignature? signature;
            try
            {
                signature = FileSignature.Read(Path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                RaiseFailed(ex);
                return GeoReloadOutcome.Missing;
            }

            if (signature is null)
            {
                _pending = null;
                return GeoReloadOutcome.Missing;
            }

            if (!force)
            {
                if (signature.Equals(_loaded) || signature.Equals(_rejected))
                {
                    _pending = null;
                    return GeoReloadOutcome.Unchanged;
                }

                // Debounce: a writer may still be copying the file; load only what looked the same one poll ago.
                if (!signature.Equals(_pending))
                {
                    _pending = signature;
                    return GeoReloadOutcome.Settling;
                }
            }

            _pending = null;
            (GeoDatabase Database, FileSignature Signature) loaded;
            try
            {
                loaded = Load(signature);
            }
            catch (Exception ex) when (ex is MmdbFormatException or IOException or UnauthorizedAccessException)
            {
                _rejected = signature;
                RaiseFailed(ex);
                return GeoReloadOutcome.Rejected;
            }

            var next = new Served(loaded.Database, ++_generationCounter);
            var previous = Interlocked.Exchange(ref _current, next);
            _loaded = loaded.Signature;
            _rejected = null;

            // Drop the owner's reference: the old database is disposed once the last in-flight lookup releases it.
            previous?.Release();
            RaiseReloaded(new GeoDatabaseReloadedEventArgs(Path, loaded.Database.Reader.Metadata, next.Number));
            return GeoReloadOutcome.Reloaded;
        }
    }

    /// <summary>Copies the file privately, maps and verifies the copy. The copy is unlinked once mapped (POSIX keeps it alive).</summary>
    private (GeoDatabase Database, FileSignature Signature) Load(FileSignature expected)
    {
        var snapshot = System.IO.Path.Combine(
            _snapshotDirectory,
            $"{System.IO.Path.GetFileNameWithoutExtension(Path)}-{Environment.ProcessId}-{Guid.NewGuid():N}.mmdb");
        try
        {
            File.Copy(Path, snapshot, overwrite: false);

            // If the file changed while it was copied, the copy may be torn; the caller will see the change next poll.
            var after = FileSignature.Read(Path);
            if (after is null || !after.Equals(expected))
            {
                throw new IOException($"GeoIP database {Path} changed while it was being copied; it will be loaded once it settles.");
            }

            var database = GeoDatabase.Open(snapshot, _options.Database);
            return (database, expected);
        }
        finally
        {
            TryDelete(snapshot);
        }
    }

    private static void TryDelete(string snapshot)
    {
        try
        {
            File.Delete(snapshot);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Platforms that cannot unlink a mapped file keep the snapshot; it lives in our own temp folder.
        }
    }

    private void RaiseReloaded(GeoDatabaseReloadedEventArgs args)
    {
        try
        {
            Reloaded?.Invoke(this, args);
        }
#pragma warning disable CA1031 // A subscriber's exception must not undo or misreport a completed swap.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private void RaiseFailed(Exception error)
    {
        try
        {
            ReloadFailed?.Invoke(this, new GeoDatabaseReloadFailedEventArgs(Path, error));
        }
#pragma warning disable CA1031 // A subscriber's exception must not take down the watcher.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>A database plus a reference count: 1 for "in service" and 1 per in-flight lookup.</summary>
    private sealed class Served(GeoDatabase database, long number)
    {
        private int _references = 1;

        public GeoDatabase Database { get; } = database;

        public long Number { get; } = number;

        public bool TryAcquire()
        {
            while (true)
            {
                var references = Volatile.Read(ref _references);
                if (references == 0)
                {
                    return false;
                }

                if (Interlocked.CompareExchange(ref _references, references + 1, references) == references)
                {
                    return true;
                }
            }
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _references) == 0)
            {
                Database.Dispose();
            }
        }
    }

    /// <summary>What identifies a version of the file without reading all of it.</summary>
    private sealed record FileSignature(long Length, DateTime LastWriteUtc, string TailHash)
    {
        private const int TailBytes = 4096;

        public static FileSignature? Read(string path)
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
                var length = stream.Length;
                var tail = new byte[(int)Math.Min(TailBytes, length)];
                stream.Seek(length - tail.Length, SeekOrigin.Begin);
                stream.ReadExactly(tail);
                return new FileSignature(length, File.GetLastWriteTimeUtc(path), Convert.ToHexString(SHA256.HashData(tail)));
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or EndOfStreamException)
            {
                // Missing, or shrinking under us (in-place overwrite in progress): treat as "not there yet".
                return null;
            }
        }
    }
}
