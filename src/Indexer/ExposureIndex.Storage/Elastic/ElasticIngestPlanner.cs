using System.Text.Json.Nodes;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Storage.Elastic;

/// <summary>What the Elasticsearch store knows of one service while planning a batch (the services-index document).</summary>
internal sealed class ServiceState
{
    public required string Key { get; init; }

    /// <summary>The document as read before the batch, for optimistic concurrency; null for a service new to the index.</summary>
    public long? SeqNo { get; init; }

    public long? PrimaryTerm { get; init; }

    /// <summary>last_seen as stored before this batch (observations at or before it may already be in history); long.MinValue when new.</summary>
    public long StoredLastSeen { get; init; } = long.MinValue;

    /// <summary>
    /// The batch that last wrote this document, as stored. History observations carry the batch that wrote them; one
    /// from a later batch was written by an attempt whose service write failed, so the service has not counted it.
    /// </summary>
    public long StoredBatch { get; init; }

    public bool Live { get; set; }

    /// <summary>Was current at some time: a service coming back is RETURNED only if it had been seen open before (else NEW).</summary>
    public bool EverLive { get; set; }

    public long FirstSeen { get; set; }

    public long LastSeen { get; set; }

    public uint Observations { get; set; }

    /// <summary>Identity of the newest observation (the current one, or the one that found the service gone).</summary>
    public string CurrentId { get; set; } = string.Empty;

    /// <summary>Identity of the most recently ingested observation (which may be an older one, kept as history).</summary>
    public string LatestId { get; set; } = string.Empty;

    /// <summary>Order of the service's current row: bigger is newer (the embedded store's "newest row first").</summary>
    public long Seq { get; set; }

    /// <summary>The record the document shows: the current observation while live.</summary>
    public required ServiceRecord Current { get; set; }

    public bool Dirty { get; set; }

    /// <summary>Reads a services-index document; throws <see cref="StoreCorruptException"/> naming it when it cannot be read.</summary>
    public static ServiceState FromDocument(string key, JsonObject source, long? seqNo, long? primaryTerm)
        => new()
        {
            Key = key,
            SeqNo = seqNo,
            PrimaryTerm = primaryTerm,
            Current = ElasticDocuments.ReadRecord(source, "services/" + key),
            Live = Flag(source, "live"),
            EverLive = Flag(source, "ever_live") || Flag(source, "live"),
            FirstSeen = ElasticDocuments.Long(source, "first_seen_us"),
            LastSeen = ElasticDocuments.Long(source, "last_seen_us"),
            StoredLastSeen = ElasticDocuments.Long(source, "last_seen_us"),
            Observations = (uint)ElasticDocuments.Long(source, "observations"),
            CurrentId = source["record_id"]?.GetValue<string>() ?? string.Empty,
            LatestId = source["latest_id"]?.GetValue<string>() ?? string.Empty,
            Seq = ElasticDocuments.Long(source, "seq"),
            StoredBatch = ElasticDocuments.Long(source, "batch"),
        };

    private static bool Flag(JsonObject source, string name) => source[name] is JsonValue value && value.TryGetValue<bool>(out var flag) && flag;
}

/// <summary>One observation to add to history.</summary>
internal sealed record PlannedObservation(string Index, string Id, string Key, ServiceRecord Record);

/// <summary>Everything one batch writes: dispositions to answer, history, change events and final service states.</summary>
internal sealed record IngestPlan(
    long Batch,
    IReadOnlyList<IngestDisposition> Dispositions,
    IReadOnlyList<PlannedObservation> Observations,
    IReadOnlyList<ChangeEvent> Changes,
    IReadOnlyList<ServiceState> Services,
    long LastChangeId,
    long LastSeq);

/// <summary>
/// Decides what each record of a batch means, exactly as the embedded store's writer does (EmbeddedStore.Process
/// and Apply): duplicates by record identity, new / updated / history / gone per ip:port/transport, and NEW,
/// CHANGED, GONE and RETURNED events. Pure: it reads the services' stored states and whether an observation is
/// already in history, and returns what to write. Records of one batch are decided in order, each seeing the ones
/// before it. The batch takes the next number of the row sequence (see <see cref="ServiceState.StoredBatch"/>).
/// </summary>
internal static class ElasticIngestPlanner
{
    public static IngestPlan Plan(
        IReadOnlyList<ServiceRecord> records,
        IReadOnlyDictionary<string, ServiceState> stored,
        Func<string, long?> historyBatch,
        string indexPrefix,
        long lastChangeId,
        long lastSeq)
    {
        var states = new Dictionary<string, ServiceState>(stored, StringComparer.Ordinal);
        var dispositions = new IngestDisposition[records.Count];
        var observations = new List<PlannedObservation>();
        var changes = new List<ChangeEvent>();
        var writtenNow = new HashSet<string>(StringComparer.Ordinal);
        var changeId = lastChangeId;
        var batch = lastSeq + 1;
        var seq = batch;

        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var id = RecordIdentity.Compute(record);
            var key = ElasticDocuments.KeyOf(record);
            var timestamp = ElasticDocuments.Micros(record.Timestamp);
            var open = IsOpen(record.Outcome);
            states.TryGetValue(key, out var state);

            // As EmbeddedStore.Process: the current or latest identity, or (for an observation no newer than the
            // service's last_seen) one already in the history chain. Stored history counts only when the service
            // document has accounted for it: written by a batch no later than the one that last wrote the service
            // (an interrupted attempt may have written history and then failed to write the service).
            if (state is not null
                && (state.CurrentId == id
                    || state.LatestId == id
                    || (timestamp <= state.LastSeen
                        && (writtenNow.Contains(id) || (timestamp <= state.StoredLastSeen && historyBatch(id) is { } written && written <= state.StoredBatch)))))
            {
                dispositions[i] = IngestDisposition.Duplicate;
                continue;
            }

            writtenNow.Add(id);
            observations.Add(new PlannedObservation(ElasticDocuments.ObservationIndex(indexPrefix, record), id, key, record));
            ChangeEvent? change;
            (dispositions[i], change, state) = Apply(key, state, record, id, timestamp, open, ref seq);
            state.Dirty = true;
            states[key] = state;
            if (change is not null)
            {
                change.Id = (ulong)++changeId;
                changes.Add(change);
            }
        }

        return new IngestPlan(batch, dispositions, observations, changes, states.Values.Where(s => s.Dirty).ToList(), changeId, seq);
    }

    /// <summary>Refused, timed out, closed or blocklisted: the port did not accept the connection (as the embedded store).</summary>
    public static bool IsOpen(GrabOutcome outcome)
        => outcome is not (GrabOutcome.Refused or GrabOutcome.ConnectTimeout or GrabOutcome.Closed or GrabOutcome.Blocklisted);

    private static (IngestDisposition, ChangeEvent?, ServiceState) Apply(string key, ServiceState? state, ServiceRecord record, string id, long timestamp, bool open, ref long seq)
    {
        if (state is null)
        {
            state = new ServiceState
            {
                Key = key,
                Current = record,
                FirstSeen = timestamp,
                LastSeen = timestamp,
                Observations = 1,
                CurrentId = id,
                LatestId = id,
                Live = open,
                EverLive = open,
            };
            if (!open)
            {
                return (IngestDisposition.Gone, null, state);
            }

            state.Seq = ++seq;
            return (IngestDisposition.New, Change(ChangeKind.New, key, record, id, null), state);
        }

        state.LatestId = id;
        state.Observations++;
        if (timestamp <= state.LastSeen)
        {
            // An older observation arriving late: history only, but it may move first_seen back.
            state.FirstSeen = Math.Min(state.FirstSeen, timestamp);
            return (IngestDisposition.History, null, state);
        }

        state.LastSeen = timestamp;
        state.CurrentId = id;
        if (!open)
        {
            if (!state.Live)
            {
                return (IngestDisposition.Gone, null, state);
            }

            state.Live = false;
            state.Current = record;
            return (IngestDisposition.Gone, Change(ChangeKind.Gone, key, record, id, null), state);
        }

        var wasLive = state.Live;
        var wasEverLive = state.EverLive;
        var previous = state.Current;
        state.Live = true;
        state.EverLive = true;
        state.Current = record;
        state.Seq = ++seq;
        if (!wasLive)
        {
            // First seen closed and now open is a NEW service; open, gone and open again is RETURNED.
            return (IngestDisposition.New, Change(wasEverLive ? ChangeKind.Returned : ChangeKind.New, key, record, id, null), state);
        }

        var changed = !previous.Data.Equals(record.Data) || previous.Product != record.Product || previous.Version != record.Version;
        return (IngestDisposition.Updated, changed ? Change(ChangeKind.Changed, key, record, id, previous) : null, state);
    }

    private static ChangeEvent Change(ChangeKind kind, string key, ServiceRecord record, string id, ServiceRecord? old)
    {
        var change = new ChangeEvent
        {
            Kind = kind,
            Key = key,
            Timestamp = record.Timestamp,
            NewProduct = record.Product,
            NewVersion = record.Version,
            RecordId = id,
        };
        if (old is not null)
        {
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
}
