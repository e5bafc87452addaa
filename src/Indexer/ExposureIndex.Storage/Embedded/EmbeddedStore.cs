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
    private const int MaxRecordsPerCommit = 50_000;
    private const string LogFolder = "log";

    private readonly SegmentLog _log;
    private readonly ReaderWriterLockSlim _indexLock = new(LockRecursionPolicy.NoRecursion);
    private readonly SemaphoreSlim _writerGate = new(1, 1);
    private readonly Channel<PendingIngest> _queue = Channel.CreateUnbounded<PendingIngest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<ServiceId, ServiceState> _states = new();
    private readonly Dictionary<UInt128, List<ServiceState>> _statesByIp = new();
    private readonly List<long> _changePositions = [];
    private readonly Task _writerLoop;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly List<IndexOp> _pendingOps = [];
    private ServiceIndex _index = new();
    private long _observations;
    private Exception? _fault;
    private bool _disposed;

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
        ApplyPendingOps();
        _writerLoop = Task.Run(WriterLoopAsync);
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
            var rows = index.Evaluate(query, index.RowCount, DataOfRow);
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
                if (_statesByIp.TryGetValue(IpNumbers.ToUInt128(address), out var states))
                {
                    foreach (var state in states)
                    {
                        foreach (var (_, observation) in WalkChain(state.LatestPosition))
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
            var rows = _index.Evaluate(query, _index.RowCount, DataOfRow);
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
            return _changePositions.Skip(start).Take(Math.Clamp(limit, 0, 10_000))
                .Select(position => LogEntry.Parser.ParseFrom(_log.Read(position)).Change)
                .ToList();
        }
        finally
        {
            _writerGate.Release();
        }
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
        try
        {
            await _writerLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _shutdown.Dispose();
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

    private string DataOfRow(int row)
        => BannerText.Decode(LogEntry.Parser.ParseFrom(_log.Read(_index.PositionOf(row))).Observation.Record.Data.Span);

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
            throw new InvalidOperationException($"the embedded store at {Directory} stopped after a write failure; restart to recover from its log", _fault);
        }
    }

    private async Task WriterLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<PendingIngest>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            var records = 0;
            while (records < MaxRecordsPerCommit && reader.TryRead(out var next))
            {
                batch.Add(next);
                records += next.Records.Count;
            }

            if (_fault is not null)
            {
                foreach (var pending in batch)
                {
                    pending.Completion.TrySetException(new InvalidOperationException("the embedded store stopped after a write failure", _fault));
                }

                continue;
            }

            await _writerGate.WaitAsync().ConfigureAwait(false);
            try
            {
                var results = new List<IngestDisposition[]>(batch.Count);
                foreach (var pending in batch)
                {
                    var dispositions = new IngestDisposition[pending.Records.Count];
                    for (var i = 0; i < dispositions.Length; i++)
                    {
                        dispositions[i] = Process(pending.Records[i]);
                    }

                    results.Add(dispositions);
                }

                _log.Commit();
                ApplyPendingOps();
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Completion.TrySetResult(new IngestResult(results[i]));
                }

                MaybeCompact();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or StoreCorruptException or InvalidOperationException)
            {
                // In-memory state may now be ahead of the disk: stop taking writes. A restart replays the log.
                _fault = ex;
                foreach (var pending in batch)
                {
                    pending.Completion.TrySetException(ex);
                }
            }
            finally
            {
                _writerGate.Release();
            }
        }
    }

    /// <summary>Decides what one record means for its service, appends what must be kept, queues index changes.</summary>
    private IngestDisposition Process(ServiceRecord record)
    {
        var id = RecordIdentity.Compute(record);
        var idNumber = UInt128.Parse(id, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var serviceId = ServiceId.Of(record);
        var timestamp = ServiceIndex.ToMicros(record.Timestamp);
        var open = IsOpen(record.Outcome);
        var exists = _states.TryGetValue(serviceId, out var state);

        if (exists && (state!.CurrentId == idNumber || state.LatestId == idNumber || (timestamp <= state.LastSeen && ChainContains(state.LatestPosition, id))))
        {
            return IngestDisposition.Duplicate;
        }

        var position = AppendObservation(record, id, exists ? state!.LatestPosition : 0);
        return Apply(serviceId, state, record, id, idNumber, timestamp, open, position, replay: false);
    }

    private IngestDisposition Apply(ServiceId serviceId, ServiceState? state, ServiceRecord record, string id, UInt128 idNumber, long timestamp, bool open, long position, bool replay)
    {
        _observations++;
        if (state is null)
        {
            state = new ServiceState(serviceId)
            {
                FirstSeen = timestamp,
                LastSeen = timestamp,
                LatestPosition = position,
                CurrentPosition = position,
                LatestId = idNumber,
                CurrentId = idNumber,
                ContentHash = ContentHash(record),
                Observations = 1,
                Live = open,
            };
            _states[serviceId] = state;
            ref var list = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_statesByIp, serviceId.Ip, out _);
            (list ??= []).Add(state);
            if (open)
            {
                _pendingOps.Add(IndexOp.AddRow(state, record, position));
                AppendChange(ChangeKind.New, serviceId, record, null, id, replay);
                return IngestDisposition.New;
            }

            return IngestDisposition.Gone;
        }

        state.LatestPosition = position;
        state.LatestId = idNumber;
        state.Observations++;
        if (timestamp <= state.LastSeen)
        {
            // An older observation arriving late: history only, but it may move first_seen back.
            state.FirstSeen = Math.Min(state.FirstSeen, timestamp);
            _pendingOps.Add(IndexOp.Touch(state));
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
            _pendingOps.Add(IndexOp.DeleteCurrent(state));
            AppendChange(ChangeKind.Gone, serviceId, record, null, id, replay);
            return IngestDisposition.Gone;
        }

        var hash = ContentHash(record);
        var wasLive = state.Live;
        var previousPosition = state.CurrentPosition;
        state.Live = true;
        state.CurrentPosition = position;
        if (wasLive)
        {
            _pendingOps.Add(IndexOp.DeleteCurrent(state));
        }

        _pendingOps.Add(IndexOp.AddRow(state, record, position));
        if (!wasLive)
        {
            state.ContentHash = hash;
            AppendChange(ChangeKind.Returned, serviceId, record, null, id, replay);
            return IngestDisposition.New;
        }

        if (hash != state.ContentHash)
        {
            state.ContentHash = hash;
            AppendChange(ChangeKind.Changed, serviceId, record, replay ? null : previousPosition, id, replay);
        }

        return IngestDisposition.Updated;
    }

    private long AppendObservation(ServiceRecord record, string id, long previous)
    {
        var entry = new LogEntry { Observation = new LoggedObservation { Record = record, RecordId = id, Previous = (ulong)previous } };
        return _log.Append(entry.ToByteArray());
    }

    private void AppendChange(ChangeKind kind, ServiceId serviceId, ServiceRecord record, long? previousPosition, string id, bool replay)
    {
        if (replay)
        {
            return; // change events are in the log already
        }

        var change = new ChangeEvent
        {
            Id = (ulong)_changePositions.Count + 1,
            Kind = kind,
            Key = serviceId.ToKey(),
            Timestamp = record.Timestamp,
            NewProduct = record.Product,
            NewVersion = record.Version,
            RecordId = id,
        };

        if (previousPosition is { } previous && previous != 0)
        {
            var old = LogEntry.Parser.ParseFrom(_log.Read(previous)).Observation.Record;
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

        _changePositions.Add(_log.Append(new LogEntry { Change = change }.ToByteArray()));
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
                _states.TryGetValue(serviceId, out var state);
                var idNumber = UInt128.Parse(entry.Observation.RecordId, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                Apply(serviceId, state, record, entry.Observation.RecordId, idNumber, ServiceIndex.ToMicros(record.Timestamp), IsOpen(record.Outcome), position, replay: true);
                if (_pendingOps.Count >= 100_000)
                {
                    ApplyPendingOps();
                }

                break;
            }

            case LogEntry.EntryOneofCase.Change:
                _changePositions.Add(position);
                break;
        }
    }

    private void ApplyPendingOps()
    {
        if (_pendingOps.Count == 0)
        {
            return;
        }

        _indexLock.EnterWriteLock();
        try
        {
            foreach (var op in _pendingOps)
            {
                var state = op.State;
                switch (op.Kind)
                {
                    case IndexOpKind.AddRow:
                        state.Row = _index.Add(op.Record!, op.Position, state.FirstSeen, ServiceIndex.ToMicros(op.Record!.Timestamp), state.Observations);
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
            _pendingOps.Clear();
        }
    }

    /// <summary>
    /// Rebuilds the index without tombstoned rows once they outnumber live ones. Runs on the writer (no ingest
    /// meanwhile); queries keep using the old index until the swap.
    /// </summary>
    private void MaybeCompact()
    {
        var index = _index;
        var dead = index.RowCount - index.LiveRows;
        if (index.RowCount < 65_536 || dead < index.LiveRows)
        {
            return;
        }

        var fresh = new ServiceIndex();
        var live = _states.Values.Where(s => s.Row >= 0).OrderBy(s => s.Row).ToList();
        var newRows = new int[live.Count];
        for (var i = 0; i < live.Count; i++)
        {
            var state = live[i];
            var record = LogEntry.Parser.ParseFrom(_log.Read(state.CurrentPosition)).Observation.Record;
            newRows[i] = fresh.Add(record, state.CurrentPosition, state.FirstSeen, state.LastSeen, state.Observations);
        }

        _indexLock.EnterWriteLock();
        try
        {
            _index = fresh;
            for (var i = 0; i < live.Count; i++)
            {
                live[i].Row = newRows[i];
            }
        }
        finally
        {
            _indexLock.ExitWriteLock();
        }
    }

    private bool ChainContains(long position, string id)
    {
        foreach (var (_, observation) in WalkChain(position))
        {
            if (string.Equals(observation.RecordId, id, StringComparison.Ordinal))
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

    private readonly record struct IndexOp(IndexOpKind Kind, ServiceState State, ServiceRecord? Record, long Position)
    {
        public static IndexOp AddRow(ServiceState state, ServiceRecord record, long position) => new(IndexOpKind.AddRow, state, record, position);

        public static IndexOp DeleteCurrent(ServiceState state) => new(IndexOpKind.DeleteCurrent, state, null, 0);

        public static IndexOp Touch(ServiceState state) => new(IndexOpKind.Touch, state, null, 0);
    }
}

/// <summary>ip:port/transport as a compact value (no string per service).</summary>
internal readonly record struct ServiceId(UInt128 Ip, ushort Port, Transport Transport)
{
    public static ServiceId Of(ServiceRecord record)
        => new(IpNumbers.ToUInt128(IPAddress.Parse(record.Ip)), (ushort)record.Port, record.Transport);

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

/// <summary>The writer's knowledge of one service (never read by queries).</summary>
internal sealed class ServiceState(ServiceId id)
{
    public ServiceId Id { get; } = id;

    /// <summary>Row in the query index, or -1. Only changed when index ops apply (after commit).</summary>
    public int Row { get; set; } = -1;

    /// <summary>Open as of the newest observation (decided before commit).</summary>
    public bool Live { get; set; }

    public long FirstSeen { get; set; }

    public long LastSeen { get; set; }

    public long LatestPosition { get; set; }

    public long CurrentPosition { get; set; }

    public UInt128 LatestId { get; set; }

    public UInt128 CurrentId { get; set; }

    public int ContentHash { get; set; }

    public uint Observations { get; set; }
}
