using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Query;
using ExposureIndex.Storage.Embedded.Index;
using ExposureIndex.Storage.Embedded.Log;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Storage.Embedded;

/// <summary>
/// The default store: nothing to set up. Durable layer: an append-only segment log (every observation and
/// change event, CRC-framed, fsynced per group commit). Query layer: an in-memory columnar index rebuilt
/// from the log at open. See docs/decisions/0002-embedded-store-engine.md for the measurements behind it.
/// <para>Concurrency: one writer loop owns the log and the per-service state; concurrent
/// <see cref="IngestAsync"/> calls are coalesced into one fsync (group commit). Queries take a read lock on
/// the index; a batch becomes visible to queries only after its fsync.</para>
/// </summary>
public sealed class EmbeddedStore : IExposureStore
{
    // Small enough that records die young (a group is acknowledged within milliseconds), large enough that
    // fsyncs stay rare at full ingest rate (~10 per second at 100k records/s).
    private const int MaxRecordsPerCommit = 8_192;
    private const string LogFolder = "log";

    private readonly SegmentLog _log;
    private readonly ReaderWriterLockSlim _indexLock = new(LockRecursionPolicy.NoRecursion);
    private readonly SemaphoreSlim _writerGate = new(1, 1);
    private readonly Channel<PendingIngest> _queue = Channel.CreateUnbounded<PendingIngest>(new UnboundedChannelOptions { SingleReader = true });
    // Writer state as structs in chunked arrays (no object per service for the GC to trace): the state of each
    // service, its index by ip:port/transport, and per address the newest state with a chain to the others.
    private readonly ChunkedArray<ServiceState> _states = new();
    private readonly OpenAddressMap<PackedServiceId, int> _stateIndex = new();
    private readonly OpenAddressMap<PackedServiceId, int> _newestStateOfHost = new(); // keyed by PackedServiceId.Host(ip)
    private ServiceId[] _idScratch = new ServiceId[1024];
    private readonly List<long> _changePositions = [];
    private readonly Channel<CommittedGroup> _committed = Channel.CreateUnbounded<CommittedGroup>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Task _writerLoop;
    private readonly Task _indexLoop;
    private List<IndexOp> _pendingOps = [];
    private readonly LoggedObservation _frame = new();
    private readonly FrameWriter _frameWriter = new();
    private ServiceIndex _index = new();
    private long _observations;
    private Exception? _fault;
    private bool _disposed;

    /// <summary>Places in the ingest pipeline where a test can make the store fail.</summary>
    internal enum FaultPoint
    {
        /// <summary>Stage 2, before a committed group is applied to the index.</summary>
        IndexApply,

        /// <summary>Stage 2, before the index is rebuilt without tombstoned rows.</summary>
        Compact,
    }

    /// <summary>Tests only: called at each <see cref="FaultPoint"/>; an exception it throws is a failure there.</summary>
    internal Action<FaultPoint>? FaultInjection { get; set; }

    private EmbeddedStore(string directory, long segmentBytes)
    {
        Directory = directory;
        var replaying = true;
        _log = SegmentLog.Open(Path.Combine(directory, LogFolder), (position, payload) =>
        {
            if (replaying)
            {
                Replay(position, payload);
            }
        }, segmentBytes);
        replaying = false;
        ApplyOps(_pendingOps);
        _pendingOps = [];
        _writerLoop = Task.Run(WriterLoopAsync);
        _indexLoop = Task.Run(IndexLoopAsync);
    }

    public string Kind => "embedded";

    public string Directory { get; }

    /// <summary>Opens (or creates) the store in <paramref name="directory"/>, replaying its log.</summary>
    public static EmbeddedStore Open(string directory, long segmentBytes = 256L * 1024 * 1024)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        System.IO.Directory.CreateDirectory(directory);
        return new EmbeddedStore(Path.GetFullPath(directory), segmentBytes);
    }

    public Task<IngestResult> IngestAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        ThrowIfUnusable();
        if (records.Count == 0)
        {
            return Task.FromResult(new IngestResult([]));
        }

        // The caller's cancellation cannot un-commit a batch; it only stops the caller waiting for the answer.
        var pending = new PendingIngest(records);
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(EmbeddedStore));
        }

        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    public Task<SearchResult> SearchAsync(SearchRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ThrowIfUnusable();
        var query = request.Scope is null ? request.Query : QueryNode.AndAll([request.Scope, request.Query]);
        long total;
        IReadOnlyDictionary<string, IReadOnlyList<FacetBucket>> facets;
        List<(long Position, long FirstSeen, long LastSeen, uint Observations)> page;
        _indexLock.EnterReadLock();
        try
        {
            var index = _index;
            var rows = index.Evaluate(query, index.RowCount, BannerHasPhrase);
            total = rows.PopCount();
            facets = request.Facets.Count == 0 ? new Dictionary<string, IReadOnlyList<FacetBucket>>() : index.Facets(rows, request.Facets);
            page = request.Limit <= 0
                ? []
                : rows.Descending().Skip(Math.Max(0, request.Offset)).Take(request.Limit).Select(row => Locate(index, row)).ToList();
        }
        finally
        {
            _indexLock.ExitReadLock();
        }

        var matches = page.Select(p => ReadStored(p.Position, p.FirstSeen, p.LastSeen, p.Observations)).ToList();
        return Task.FromResult(new SearchResult(total, matches, facets));
    }

    public async Task<HostView?> GetHostAsync(IPAddress address, bool history, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        ThrowIfUnusable();
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        List<(long Position, long FirstSeen, long LastSeen, uint Observations)> located;
        _indexLock.EnterReadLock();
        try
        {
            located = _index.RowsOf(address).Select(row => Locate(_index, row)).ToList();
        }
        finally
        {
            _indexLock.ExitReadLock();
        }

        var services = located.Select(p => ReadStored(p.Position, p.FirstSeen, p.LastSeen, p.Observations))
            .OrderBy(s => s.Record.Port)
            .ThenBy(s => s.Record.Transport)
            .ToList();

        var observations = new List<ServiceRecord>();
        if (history)
        {
            // History walks each service's observation chain on disk; the writer gate keeps chains still meanwhile.
            await _writerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_newestStateOfHost.TryGetValue(PackedServiceId.Host(IpNumbers.ToUInt128(address)), out var newest))
                {
                    for (var s = newest; s >= 0; s = _states[s].PreviousOfHost)
                    {
                        foreach (var (_, observation) in WalkChain(_states[s].LatestPosition))
                        {
                            observations.Add(observation.Record);
                        }
                    }
                }
            }
            finally
            {
                _writerGate.Release();
            }

            observations.Sort((a, b) => b.Timestamp.CompareTo(a.Timestamp) is var c && c != 0 ? c : a.Port.CompareTo(b.Port));
        }

        if (services.Count == 0 && observations.Count == 0)
        {
            return null;
        }

        var lastUpdate = services.Count > 0
            ? services.Max(s => s.LastSeen.ToDateTime())
            : observations.Max(o => o.Timestamp.ToDateTime());
        return new HostView(address, services, observations, lastUpdate);
    }

    public async IAsyncEnumerable<StoredService> ExportAsync(QueryNode query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ThrowIfUnusable();
        List<(long Position, long FirstSeen, long LastSeen, uint Observations)> located;
        _indexLock.EnterReadLock();
        try
        {
            var rows = _index.Evaluate(query, _index.RowCount, BannerHasPhrase);
            located = rows.Descending().Select(row => Locate(_index, row)).ToList();
        }
        finally
        {
            _indexLock.ExitReadLock();
        }

        foreach (var p in located)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return ReadStored(p.Position, p.FirstSeen, p.LastSeen, p.Observations);
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ChangeEvent>> GetChangesAsync(ulong afterId, int limit, CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable();
        await _writerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var start = (int)Math.Min(afterId, (ulong)_changePositions.Count);
            var count = Math.Min(Math.Clamp(limit, 0, 10_000), _changePositions.Count - start);
            var events = new List<ChangeEvent>(count);
            for (var i = start; i < start + count; i++)
            {
                events.Add(ChangeAt((ulong)i + 1, _changePositions[i]));
            }

            return events;
        }
        finally
        {
            _writerGate.Release();
        }
    }

    /// <summary>The change event with id <paramref name="id"/>, rebuilt from the observation frame that carries its mark.</summary>
    private ChangeEvent ChangeAt(ulong id, long position)
    {
        var entry = LogEntry.Parser.ParseFrom(_log.Read(position));
        if (entry.EntryCase == LogEntry.EntryOneofCase.Change)
        {
            return entry.Change; // a standalone change frame from an older log
        }

        var observation = entry.Observation;
        var record = observation.Record;
        var change = new ChangeEvent
        {
            Id = id,
            Kind = observation.Change,
            Key = ServiceId.Of(record).ToKey(),
            Timestamp = record.Timestamp,
            NewProduct = record.Product,
            NewVersion = record.Version,
            RecordId = observation.RecordId,
        };

        if (observation.Change == ChangeKind.Changed && observation.Replaced != 0)
        {
            var old = LogEntry.Parser.ParseFrom(_log.Read((long)observation.Replaced)).Observation.Record;
            change.OldProduct = old.Product;
            change.OldVersion = old.Version;
            if (!old.Data.Equals(record.Data))
            {
                change.ChangedFields.Add("data");
            }

            if (old.Product != record.Product)
            {
                change.ChangedFields.Add("product");
            }

            if (old.Version != record.Version)
            {
                change.ChangedFields.Add("version");
            }
        }

        return change;
    }

    public Task<StoreStats> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable();
        _indexLock.EnterReadLock();
        try
        {
            var details = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["directory"] = Directory,
                ["rows"] = _index.RowCount.ToString(CultureInfo.InvariantCulture),
                ["segments"] = _log.SegmentCount.ToString(CultureInfo.InvariantCulture),
                ["distinct_words"] = _index.DistinctWords.ToString(CultureInfo.InvariantCulture),
                ["word_postings"] = _index.WordPostings.ToString(CultureInfo.InvariantCulture),
            };
            return Task.FromResult(new StoreStats(_index.LiveRows, _index.Hosts, Interlocked.Read(ref _observations), _changePositions.Count, _log.TotalBytes, details));
        }
        finally
        {
            _indexLock.ExitReadLock();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _queue.Writer.TryComplete();
        await _writerLoop.ConfigureAwait(false);
        await _indexLoop.ConfigureAwait(false);
        _log.Dispose();
        _indexLock.Dispose();
        _writerGate.Dispose();
    }

    private static (long Position, long FirstSeen, long LastSeen, uint Observations) Locate(ServiceIndex index, int row)
    {
        var (first, last, observations) = index.SeenOf(row);
        return (index.PositionOf(row), first, last, observations);
    }

    private StoredService ReadStored(long position, long firstSeen, long lastSeen, uint observations)
    {
        var observation = LogEntry.Parser.ParseFrom(_log.Read(position)).Observation;
        return new StoredService
        {
            Record = observation.Record,
            RecordId = observation.RecordId,
            FirstSeen = Timestamp.FromDateTime(ServiceIndex.FromMicros(firstSeen)),
            LastSeen = Timestamp.FromDateTime(ServiceIndex.FromMicros(lastSeen)),
            Observations = observations,
        };
    }

    [ThreadStatic]
    private static byte[]? t_frameScratch;

    [ThreadStatic]
    private static char[]? t_textScratch;

    [ThreadStatic]
    private static List<ulong>? t_wordScratch;

    /// <summary>
    /// Phrase verification for one row: the frame is read into per-thread buffers and only its banner is decoded and
    /// tokenized (nothing allocated per row; a common phrase can mean hundreds of thousands of rows to check).
    /// </summary>
    private bool BannerHasPhrase(int row, IReadOnlyList<ulong> phrase)
    {
        var frame = _log.Read(_index.PositionOf(row), ref t_frameScratch);
        var data = LogFrames.TryFindBanner(frame, out var banner)
            ? banner
            : LogEntry.Parser.ParseFrom(frame).Observation.Record.Data.Span;
        return Tokenizer.ContainsPhrase(Tokenizer.DecodeBanner(data, ref t_textScratch), phrase, t_wordScratch ??= new List<ulong>(256));
    }

    private IEnumerable<(long Position, LoggedObservation Observation)> WalkChain(long position)
    {
        // Bounded by construction: every link points to an earlier position, so the walk ends.
        while (position != 0)
        {
            var observation = LogEntry.Parser.ParseFrom(_log.Read(position)).Observation;
            yield return (position, observation);
            if (observation.Previous >= (ulong)position)
            {
                throw new StoreCorruptException($"store log observation at position {position} links forward to {observation.Previous}");
            }

            position = (long)observation.Previous;
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault is not null)
        {
            throw Stopped(_fault);
        }
    }

    /// <summary>The one answer to anything asked of the store after <paramref name="fault"/> stopped it.</summary>
    private InvalidOperationException Stopped(Exception fault)
        => new($"the embedded store at {Directory} stopped after a failure ({fault.GetType().Name}: {fault.Message}); restart to recover from its log", fault);

    /// <summary>
    /// Stage 1 of ingest: decide what each record means (dedupe, history, changes), append it to the log and fsync,
    /// then hand the group to stage 2. Stage 2 (<see cref="IndexLoopAsync"/>) makes it visible to queries and only
    /// then acknowledges it, so the two stages work on consecutive groups at once (one core each).
    /// </summary>
    private async Task WriterLoopAsync()
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                var batch = new List<PendingIngest>();
                var records = 0;
                while (records < MaxRecordsPerCommit && reader.TryRead(out var next))
                {
                    batch.Add(next);
                    records += next.Records.Count;
                }

                if (_fault is not null)
                {
                    Fail(batch, Stopped(_fault));
                    continue;
                }

                await _writerGate.WaitAsync().ConfigureAwait(false);
                try
                {
                    var results = new List<IngestDisposition[]>(batch.Count);
                    foreach (var pending in batch)
                    {
                        results.Add(ProcessAll(pending.Records));
                    }

                    _log.Commit();
                    var ops = _pendingOps;
                    _pendingOps = [];
                    _committed.Writer.TryWrite(new CommittedGroup(batch, results, ops));
                }
                catch (Exception ex)
                {
                    // In-memory state may now be ahead of the disk: stop taking writes. A restart replays the log.
                    // Whatever the failure, every waiting batch gets an answer: none may wait forever.
                    _fault = ex;
                    Fail(batch, AsStoreFailure(ex));
                }
                finally
                {
                    _writerGate.Release();
                }
            }
        }
        finally
        {
            _committed.Writer.TryComplete();
        }
    }

    /// <summary>Stage 2 of ingest: apply committed groups to the query index in order, then acknowledge them.</summary>
    private async Task IndexLoopAsync()
    {
        await foreach (var group in _committed.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (!ApplyAndAcknowledge(group))
            {
                continue;
            }

            try
            {
                await MaybeCompactAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Every group so far is applied and answered, and the old index still serves queries: the rebuild
                // swaps in only when complete. It reads the log back, so a failure here means the disk is failing:
                // stop taking writes rather than retry it after every group. A restart replays the log.
                _fault = ex;
            }
        }
    }

    /// <summary>
    /// Applies one committed group to the index and acknowledges its batches. On any failure, or after an earlier
    /// one, the group's batches get an error instead: they are durable in the log but not queryable, and a restart
    /// replays them. Every batch gets an answer either way. False when the group was not applied.
    /// </summary>
    private bool ApplyAndAcknowledge(CommittedGroup group)
    {
        if (_fault is not null)
        {
            // The index no longer matches the log: answer the groups behind the failure, apply nothing.
            Fail(group.Batch, Stopped(_fault));
            return false;
        }

        try
        {
            FaultInjection?.Invoke(FaultPoint.IndexApply);
            ApplyOps(group.Ops);
        }
        catch (Exception ex)
        {
            _fault = ex;
            Fail(group.Batch, AsStoreFailure(ex));
            return false;
        }

        for (var i = 0; i < group.Batch.Count; i++)
        {
            group.Batch[i].Completion.TrySetResult(new IngestResult(group.Results[i]));
        }

        return true;
    }

    /// <summary>Failures the ingest path reports as the store being unavailable (IngestService maps these to UNAVAILABLE).</summary>
    private Exception AsStoreFailure(Exception ex)
        => ex is IOException or StoreCorruptException or InvalidOperationException
            ? ex
            : new InvalidOperationException($"the embedded store at {Directory} failed ({ex.GetType().Name}: {ex.Message}); restart to recover from its log", ex);

    private static void Fail(List<PendingIngest> batch, Exception error)
    {
        foreach (var pending in batch)
        {
            pending.Completion.TrySetException(error);
        }
    }

    /// <summary>
    /// <see cref="Process"/> for each record in order. The service map is far larger than the caches, so the slots of
    /// the records a few places ahead are prefetched while one is processed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private IngestDisposition[] ProcessAll(IReadOnlyList<ServiceRecord> records)
    {
        const int Ahead = 8;
        var count = records.Count;
        if (_idScratch.Length < count)
        {
            _idScratch = new ServiceId[Math.Max(count, _idScratch.Length * 2)];
        }

        var ids = _idScratch;
        for (var i = 0; i < count; i++)
        {
            ids[i] = ServiceId.Of(records[i]);
        }

        _stateIndex.Reserve(count);
        for (var i = 0; i < Math.Min(Ahead, count); i++)
        {
            _stateIndex.Prefetch(PackedServiceId.Of(ids[i]));
        }

        var dispositions = new IngestDisposition[count];
        for (var i = 0; i < count; i++)
        {
            if (i + Ahead < count)
            {
                _stateIndex.Prefetch(PackedServiceId.Of(ids[i + Ahead]));
            }

            dispositions[i] = Process(records[i], ids[i]);
        }

        return dispositions;
    }

    /// <summary>Decides what one record means for its service, appends what must be kept, queues index changes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private IngestDisposition Process(ServiceRecord record, in ServiceId serviceId)
    {
        var idNumber = RecordIdentity.ComputeValue(record);
        var timestamp = ServiceIndex.ToMicros(record.Timestamp);
        var index = StateIndexOf(serviceId, out var exists);
        if (exists)
        {
            ref var state = ref _states.At(index);
            if (state.CurrentId == idNumber || state.LatestId == idNumber || (timestamp <= state.LastSeen && ChainContains(state.LatestPosition, idNumber)))
            {
                return IngestDisposition.Duplicate;
            }
        }

        return Apply(serviceId, exists ? index : -1, record, idNumber, timestamp, IsOpen(record.Outcome), position: -1);
    }

    /// <summary>
    /// The state of <paramref name="serviceId"/>; when it has none, the one <see cref="Apply"/> is about to add
    /// (<c>_states.Count</c>) is entered for it now, so a new service costs one lookup rather than two.
    /// </summary>
    private int StateIndexOf(in ServiceId serviceId, out bool exists)
    {
        ref var index = ref _stateIndex.GetValueRefOrAddDefault(PackedServiceId.Of(serviceId), out exists);
        if (!exists)
        {
            index = _states.Count;
        }

        return index;
    }

    /// <summary>
    /// Applies one observation to the writer state. <paramref name="position"/> is -1 on ingest (the observation is
    /// appended here, marked with the change it makes) or the frame's position during replay.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private IngestDisposition Apply(ServiceId serviceId, int index, ServiceRecord record, UInt128 idNumber, long timestamp, bool open, long position)
    {
        _observations++;
        if (index < 0)
        {
            position = Append(record, idNumber, previous: 0, open ? ChangeKind.New : ChangeKind.Unspecified, replaced: 0, position);
            index = _states.Count;
            ref var host = ref _newestStateOfHost.GetValueRefOrAddDefault(PackedServiceId.Host(serviceId.Ip), out var hostKnown);
            _states.Add(new ServiceState
            {
                Id = serviceId,
                Row = -1,
                FirstSeen = timestamp,
                LastSeen = timestamp,
                LatestPosition = position,
                CurrentPosition = position,
                LatestId = idNumber,
                CurrentId = idNumber,
                ContentHash = ContentHash(record),
                Observations = 1,
                Live = open,
                EverLive = open,
                PreviousOfHost = hostKnown ? host : -1,
            });
            host = index; // _stateIndex already points here (StateIndexOf)
            if (open)
            {
                _pendingOps.Add(IndexOp.AddRow(index, record, position));
                return IngestDisposition.New;
            }

            return IngestDisposition.Gone;
        }

        ref var state = ref _states.At(index);
        var older = timestamp <= state.LastSeen;
        var wasLive = state.Live;
        var hash = open && !older ? ContentHash(record) : 0;
        var change = older ? ChangeKind.Unspecified
            : !open ? (wasLive ? ChangeKind.Gone : ChangeKind.Unspecified)
            : !wasLive ? (state.EverLive ? ChangeKind.Returned : ChangeKind.New)
            : hash != state.ContentHash ? ChangeKind.Changed : ChangeKind.Unspecified;
        position = Append(record, idNumber, state.LatestPosition, change, change == ChangeKind.Changed ? state.CurrentPosition : 0, position);

        state.LatestPosition = position;
        state.LatestId = idNumber;
        state.Observations++;
        if (older)
        {
            // An older observation arriving late: history only, but it may move first_seen back.
            state.FirstSeen = Math.Min(state.FirstSeen, timestamp);
            _pendingOps.Add(IndexOp.Touch(index));
            return IngestDisposition.History;
        }

        state.LastSeen = timestamp;
        state.CurrentId = idNumber;
        if (!open)
        {
            if (!state.Live)
            {
                return IngestDisposition.Gone;
            }

            state.Live = false;
            state.CurrentPosition = position;
            _pendingOps.Add(IndexOp.DeleteCurrent(index));
            return IngestDisposition.Gone;
        }

        state.Live = true;
        state.EverLive = true;
        state.CurrentPosition = position;
        if (wasLive)
        {
            _pendingOps.Add(IndexOp.DeleteCurrent(index));
        }

        _pendingOps.Add(IndexOp.AddRow(index, record, position));
        state.ContentHash = hash;
        return wasLive ? IngestDisposition.Updated : IngestDisposition.New;
    }

    /// <summary>
    /// Appends one observation frame, marked with its change, unless replaying (then returns the known position and
    /// records the change mark). The message objects and the buffer are reused: nothing is allocated per record.
    /// </summary>
    private long Append(ServiceRecord record, UInt128 id, long previous, ChangeKind change, long replaced, long knownPosition)
    {
        long position;
        if (knownPosition >= 0)
        {
            position = knownPosition;
        }
        else
        {
            _frame.RecordId = RecordIdentity.ToText(id);
            _frame.Previous = (ulong)previous;
            _frame.Change = change;
            _frame.Replaced = (ulong)replaced;
            position = _log.Append(LogFrames.WriteObservation(_frame, record, _frameWriter));
        }

        if (change != ChangeKind.Unspecified)
        {
            _changePositions.Add(position);
        }

        return position;
    }

    private void Replay(long position, ReadOnlySpan<byte> payload)
    {
        var entry = LogEntry.Parser.ParseFrom(payload);
        switch (entry.EntryCase)
        {
            case LogEntry.EntryOneofCase.Observation:
            {
                var record = entry.Observation.Record;
                var serviceId = ServiceId.Of(record);
                if (!RecordIdentity.TryParse(entry.Observation.RecordId, out var idNumber))
                {
                    throw new StoreCorruptException($"store log observation at position {position} has a malformed record id '{entry.Observation.RecordId}'");
                }

                var stateIndex = StateIndexOf(serviceId, out var known);
                Apply(serviceId, known ? stateIndex : -1, record, idNumber, ServiceIndex.ToMicros(record.Timestamp), IsOpen(record.Outcome), position);
                if (_pendingOps.Count >= 100_000)
                {
                    ApplyOps(_pendingOps);
                    _pendingOps = [];
                }

                break;
            }

            case LogEntry.EntryOneofCase.Change:
                _changePositions.Add(position);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ApplyOps(List<IndexOp> ops)
    {
        if (ops.Count == 0)
        {
            return;
        }

        _indexLock.EnterWriteLock();
        try
        {
            foreach (var op in ops)
            {
                ref var state = ref _states.At(op.State);
                switch (op.Kind)
                {
                    case IndexOpKind.AddRow:
                        state.Row = _index.Add(op.Record!, state.Id.Ip, op.Position, state.FirstSeen, ServiceIndex.ToMicros(op.Record!.Timestamp), state.Observations);
                        break;
                    case IndexOpKind.DeleteCurrent:
                        if (state.Row >= 0)
                        {
                            _index.Delete(state.Row);
                            state.Row = -1;
                        }

                        break;
                    case IndexOpKind.Touch:
                        if (state.Row >= 0)
                        {
                            _index.Touch(state.Row, state.FirstSeen, state.Observations);
                        }

                        break;
                }
            }
        }
        finally
        {
            _indexLock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Rebuilds the index without tombstoned rows once they outnumber live ones. Runs in stage 2 holding the writer
    /// gate, so stage 1 pauses and every committed group has been applied; queries use the old index until the swap.
    /// </summary>
    private async Task MaybeCompactAsync()
    {
        var index = _index;
        var dead = index.RowCount - index.LiveRows;
        if (index.RowCount < 65_536 || dead < index.LiveRows)
        {
            return;
        }

        await _writerGate.WaitAsync().ConfigureAwait(false);
        try
        {
            // Groups committed while we waited must be applied before rows are renumbered.
            while (_committed.Reader.TryRead(out var group))
            {
                ApplyAndAcknowledge(group);
            }

            if (_fault is null)
            {
                FaultInjection?.Invoke(FaultPoint.Compact);
                Compact();
            }
        }
        finally
        {
            _writerGate.Release();
        }
    }

    private void Compact()
    {
        var fresh = new ServiceIndex();
        var live = new List<int>(_index.LiveRows);
        for (var i = 0; i < _states.Count; i++)
        {
            if (_states[i].Row >= 0)
            {
                live.Add(i);
            }
        }

        live.Sort((a, b) => _states[a].Row.CompareTo(_states[b].Row));
        var newRows = new int[live.Count];
        for (var i = 0; i < live.Count; i++)
        {
            var state = _states[live[i]];
            var record = LogEntry.Parser.ParseFrom(_log.Read(state.CurrentPosition)).Observation.Record;
            newRows[i] = fresh.Add(record, state.Id.Ip, state.CurrentPosition, state.FirstSeen, state.LastSeen, state.Observations);
        }

        _indexLock.EnterWriteLock();
        try
        {
            _index = fresh;
            for (var i = 0; i < live.Count; i++)
            {
                _states.At(live[i]).Row = newRows[i];
            }
        }
        finally
        {
            _indexLock.ExitWriteLock();
        }
    }

    private bool ChainContains(long position, UInt128 id)
    {
        var text = RecordIdentity.ToText(id);
        foreach (var (_, observation) in WalkChain(position))
        {
            if (string.Equals(observation.RecordId, text, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Refused, timed out, closed or blocklisted: the port did not accept the connection.</summary>
    private static bool IsOpen(GrabOutcome outcome)
        => outcome is not (GrabOutcome.Refused or GrabOutcome.ConnectTimeout or GrabOutcome.Closed or GrabOutcome.Blocklisted);

    private static int ContentHash(ServiceRecord record)
        => HashCode.Combine(MurmurHash3.Hash32(record.Data.Span), record.Product, record.Version);

    private sealed record CommittedGroup(List<PendingIngest> Batch, List<IngestDisposition[]> Results, List<IndexOp> Ops);

    private sealed class PendingIngest(IReadOnlyList<ServiceRecord> records)
    {
        public IReadOnlyList<ServiceRecord> Records { get; } = records;

        public TaskCompletionSource<IngestResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private enum IndexOpKind
    {
        AddRow,
        DeleteCurrent,
        Touch,
    }

    private readonly record struct IndexOp(IndexOpKind Kind, int State, ServiceRecord? Record, long Position)
    {
        public static IndexOp AddRow(int state, ServiceRecord record, long position) => new(IndexOpKind.AddRow, state, record, position);

        public static IndexOp DeleteCurrent(int state) => new(IndexOpKind.DeleteCurrent, state, null, 0);

        public static IndexOp Touch(int state) => new(IndexOpKind.Touch, state, null, 0);
    }
}

/// <summary>ip:port/transport as a compact value (no string per service).</summary>
internal readonly record struct ServiceId(UInt128 Ip, ushort Port, Transport Transport)
{
    public static ServiceId Of(ServiceRecord record)
        => new(IpNumbers.Parse(record.Ip), (ushort)record.Port, record.Transport);

    public string ToKey()
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, Ip);
        var address = new IPAddress(bytes);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return new ServiceKey(address, Port, Transport).ToString();
    }
}

/// <summary>
/// A <see cref="ServiceId"/> (or, with port 0, a whole address) as the writer's map key: 20 bytes packed on 4, so a
/// slot with its int value is 24 bytes (a <see cref="UInt128"/> field would align the slot to 16 and make it 48).
/// </summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Pack = 4)]
internal readonly struct PackedServiceId(ulong lo, ulong hi, uint tag) : IOpenAddressKey<PackedServiceId>
{
    private const uint Occupied = 1u << 31; // never default, so no real key is the map's empty marker

    private readonly ulong _lo = lo;
    private readonly ulong _hi = hi;
    private readonly uint _tag = tag; // port | transport << 16 | occupied

    public ulong Hash
    {
        get
        {
            var x = (_lo ^ (_hi * 0xC2B2AE3D27D4EB4FUL)) * 0x9E3779B97F4A7C15UL;
            return x ^ (x >> 29) ^ (_tag * 0x165667B19E3779F9UL);
        }
    }

    public bool IsDefault => _tag == 0;

    public static PackedServiceId Of(in ServiceId id)
        => new((ulong)id.Ip, (ulong)(id.Ip >> 64), Occupied | id.Port | ((uint)id.Transport << 16));

    /// <summary>The key of an address as a whole (port 0 belongs to no service).</summary>
    public static PackedServiceId Host(UInt128 ip) => new((ulong)ip, (ulong)(ip >> 64), Occupied);

    public bool Equals(PackedServiceId other) => _tag == other._tag && _lo == other._lo && _hi == other._hi;

    public override bool Equals(object? obj) => obj is PackedServiceId other && Equals(other);

    public override int GetHashCode() => (int)(Hash >> 32);
}

/// <summary>The writer's knowledge of one service (never read by queries). A struct: millions of them cost the GC nothing.</summary>
internal struct ServiceState
{
    public ServiceId Id;

    /// <summary>Row in the query index, or -1. Only changed when index ops apply (after commit).</summary>
    public int Row;

    /// <summary>Open as of the newest observation (decided before commit).</summary>
    public bool Live;

    /// <summary>Was ever open (so a later open observation is RETURNED rather than NEW).</summary>
    public bool EverLive;

    public long FirstSeen;

    public long LastSeen;

    public long LatestPosition;

    public long CurrentPosition;

    public UInt128 LatestId;

    public UInt128 CurrentId;

    public int ContentHash;

    public uint Observations;

    /// <summary>The next older service state of the same address, or -1.</summary>
    public int PreviousOfHost;
}
