using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Query;

namespace ExposureIndex.Storage.Elastic;

/// <summary>
/// The store on Elasticsearch 7.10+ / 8.x, for users who outgrow one machine. Same contract and conformance suite
/// as the embedded store. Layout (see Elastic/README.md): <c>{prefix}-services</c> holds the current state, one
/// document per ip:port/transport (id = the key); <c>{prefix}-observations-yyyy.MM</c> hold every observation
/// (id = record identity, so resending is idempotent); <c>{prefix}-changes</c> the change log.
/// <para>Ingest: one <c>_mget</c> of the batch's services, the same decisions as the embedded store
/// (<see cref="ElasticIngestPlanner"/>), then history and change events in one <c>_bulk</c> and the services in a
/// second, each verified item by item. History goes first so that a service document never points at an
/// observation that is not stored. Both bulks use <c>refresh=wait_for</c> by default: when IngestAsync returns, the
/// batch is durable (translog fsynced per request, pinned in the templates) and searchable.</para>
/// <para>One writer per index set, as with the embedded store: concurrent calls on one instance are serialized,
/// and a second process writing the same services is detected (optimistic concurrency on the service documents)
/// rather than silently overwritten.</para>
/// </summary>
public sealed class ElasticStore : IExposureStore
{
    /// <summary>Elasticsearch's default index.max_result_window: from + size beyond it needs search_after.</summary>
    public const int MaxResultWindow = 10_000;

    private const string PointInTimeKeepAlive = "2m";
    private const int MultiGetChunk = 5_000;

    private readonly ElasticClient _client;
    private readonly ElasticStoreOptions _options;
    private readonly ElasticIndices _indices;
    private readonly ElasticQueryCompiler _compiler = ElasticQueryCompiler.Default;
    private readonly SemaphoreSlim _writerGate = new(1, 1);
    private readonly HashSet<string> _knownIndices = new(StringComparer.Ordinal);
    private long _lastChangeId;
    private long _lastSeq;
    private bool _disposed;

    private ElasticStore(ElasticClient client, ElasticStoreOptions options, string clusterName, string version)
    {
        _client = client;
        _options = options;
        _indices = new ElasticIndices(options.IndexPrefix);
        ClusterName = clusterName;
        ClusterVersion = version;
    }

    public string Kind => "elasticsearch";

    /// <summary>The cluster URL, without credentials.</summary>
    public string Url => _client.DisplayUrl;

    public string ClusterName { get; }

    public string ClusterVersion { get; }

    /// <summary>
    /// Connects to the cluster at <paramref name="url"/> (<c>--store http://host:9200</c>): checks it answers and is
    /// Elasticsearch 7.10 or later, installs the index templates, creates the indices and reads the counters.
    /// Throws <see cref="ElasticException"/> naming the URL when the cluster is unreachable or unsuitable, and
    /// <see cref="ArgumentException"/> listing every invalid option.
    /// </summary>
    public static async Task<ElasticStore> OpenAsync(Uri url, ElasticStoreOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        options ??= ElasticStoreOptions.Default;
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid Elasticsearch store options: " + string.Join("; ", errors), nameof(options));
        }

        var client = new ElasticClient(url, options);
        try
        {
            return await OpenAsync(client, options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>The synchronous form of <see cref="OpenAsync(Uri, ElasticStoreOptions?, CancellationToken)"/>, for startup code.</summary>
    public static ElasticStore Open(Uri url, ElasticStoreOptions? options = null)
        => OpenAsync(url, options).GetAwaiter().GetResult();

    internal static async Task<ElasticStore> OpenAsync(ElasticClient client, ElasticStoreOptions options, CancellationToken cancellationToken)
    {
        var info = await client.GetObjectAsync(HttpMethod.Get, string.Empty, null, cancellationToken).ConfigureAwait(false);
        var (clusterName, version) = CheckCluster(client.DisplayUrl, info);
        var store = new ElasticStore(client, options, clusterName, version);
        foreach (var (name, body) in ElasticMappings.Templates(store._indices, options))
        {
            await client.PutIndexTemplateAsync(name, body, cancellationToken).ConfigureAwait(false);
        }

        if (!await client.CreateIndexIfMissingAsync(store._indices.Services, cancellationToken).ConfigureAwait(false))
        {
            await store.CheckSchemaAsync(store._indices.Services, cancellationToken).ConfigureAwait(false);
        }

        await client.CreateIndexIfMissingAsync(store._indices.Changes, cancellationToken).ConfigureAwait(false);
        store._lastSeq = Math.Max(
            await store.MaxAsync(store._indices.Services, "seq", cancellationToken).ConfigureAwait(false),
            await store.MaxAsync(store._indices.Services, "batch", cancellationToken).ConfigureAwait(false));
        store._lastChangeId = await store.MaxAsync(store._indices.Changes, "id", cancellationToken).ConfigureAwait(false);
        return store;
    }

    public async Task<IngestResult> IngestAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (records.Count == 0)
        {
            return new IngestResult([]);
        }

        await _writerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var states = await ReadStatesAsync(records, cancellationToken).ConfigureAwait(false);
            var history = await ReadHistoryAsync(records, states, cancellationToken).ConfigureAwait(false);
            var plan = ElasticIngestPlanner.Plan(records, states, id => history.TryGetValue(id, out var batch) ? batch : null, _indices.Prefix, _lastChangeId, _lastSeq);

            // Numbers handed out are never handed out again, even if the writes below fail (gaps are allowed).
            _lastChangeId = plan.LastChangeId;
            _lastSeq = plan.LastSeq;
            await WriteAsync(plan, cancellationToken).ConfigureAwait(false);
            return new IngestResult(plan.Dispositions);
        }
        finally
        {
            _writerGate.Release();
        }
    }

    public async Task<SearchResult> SearchAsync(SearchRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var offset = Math.Max(0, request.Offset);
        if (request.Limit <= 0 || (long)offset + request.Limit <= MaxResultWindow)
        {
            var answer = await _client.SearchAsync(_indices.Services, _compiler.BuildSearch(request with { Offset = offset }), cancellationToken).ConfigureAwait(false);
            var matches = Hits(answer).Select(h => ToStored(h)).ToList();
            return new SearchResult(Total(answer), matches, ElasticQueryCompiler.ReadFacets(request.Facets, answer["aggregations"] as JsonObject));
        }

        // Deep page: totals and facets from one size-0 search, the page itself by search_after over a point in time.
        var counted = await _client.SearchAsync(_indices.Services, _compiler.BuildSearch(request with { Offset = 0, Limit = 0 }), cancellationToken).ConfigureAwait(false);
        var page = await DeepPageAsync(_compiler.CompileServiceQuery(request.Query, request.Scope), offset, request.Limit, cancellationToken).ConfigureAwait(false);
        return new SearchResult(Total(counted), page, ElasticQueryCompiler.ReadFacets(request.Facets, counted["aggregations"] as JsonObject));
    }

    public async Task<HostView?> GetHostAsync(IPAddress address, bool history, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var ip = address.ToString();
        var servicesQuery = new JsonObject
        {
            ["bool"] = new JsonObject { ["filter"] = new JsonArray(ElasticQueryCompiler.LiveFilter(), Term("ip", ip)) },
        };
        var services = new List<StoredService>();
        var serviceSort = new JsonArray(new JsonObject { ["port"] = "asc" }, new JsonObject { ["key"] = "asc" });
        await foreach (var hit in WalkAsync(_indices.Services, servicesQuery, serviceSort, ElasticDocuments.ServiceSource, pointInTime: false, cancellationToken).ConfigureAwait(false))
        {
            services.Add(ToStored(hit));
        }

        services = services.OrderBy(s => s.Record.Port).ThenBy(s => s.Record.Transport).ToList();
        var observations = new List<ServiceRecord>();
        if (history)
        {
            var historySort = new JsonArray(new JsonObject { ["timestamp_us"] = "desc" }, new JsonObject { ["port"] = "asc" }, new JsonObject { ["record_id"] = "asc" });
            await foreach (var hit in WalkAsync(_indices.ObservationsPattern, Term("ip", ip), historySort, ["raw"], pointInTime: false, cancellationToken).ConfigureAwait(false))
            {
                observations.Add(ElasticDocuments.ReadRecord(Source(hit), Where(hit)));
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
        ObjectDisposedException.ThrowIf(_disposed, this);
        var compiled = _compiler.CompileServiceQuery(query, null);
        await foreach (var hit in WalkAsync(_indices.Services, compiled, ElasticQueryCompiler.ServiceSort(), ElasticDocuments.ServiceSource, pointInTime: true, cancellationToken).ConfigureAwait(false))
        {
            yield return ToStored(hit);
        }
    }

    public async Task<IReadOnlyList<ChangeEvent>> GetChangesAsync(ulong afterId, int limit, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        limit = Math.Clamp(limit, 0, MaxResultWindow);
        if (limit == 0 || afterId >= long.MaxValue)
        {
            return [];
        }

        var body = new JsonObject
        {
            ["size"] = limit,
            ["track_total_hits"] = false,
            ["query"] = new JsonObject { ["range"] = new JsonObject { ["id"] = new JsonObject { ["gt"] = (long)afterId } } },
            ["sort"] = new JsonArray(new JsonObject { ["id"] = "asc" }),
            ["_source"] = new JsonArray("raw"),
        };
        var answer = await _client.SearchAsync(_indices.Changes, body, cancellationToken).ConfigureAwait(false);
        return Hits(answer).Select(h => ElasticDocuments.ReadChange(Source(h), Where(h))).ToList();
    }

    public async Task<StoreStats> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var live = new JsonObject
        {
            ["size"] = 0,
            ["track_total_hits"] = true,
            ["query"] = ElasticQueryCompiler.LiveFilter(),
            ["aggs"] = new JsonObject
            {
                // Exact below the threshold, an estimate (HyperLogLog++) above it.
                ["hosts"] = new JsonObject { ["cardinality"] = new JsonObject { ["field"] = "ip", ["precision_threshold"] = 40_000 } },
            },
        };
        var answer = await _client.SearchAsync(_indices.Services, live, cancellationToken).ConfigureAwait(false);
        var hosts = answer["aggregations"]?["hosts"]?["value"]?.GetValue<long>() ?? 0;
        var observations = await _client.CountAsync(_indices.ObservationsPattern, null, cancellationToken).ConfigureAwait(false);
        var changes = await _client.CountAsync(_indices.Changes, null, cancellationToken).ConfigureAwait(false);
        var storeStats = await _client.GetObjectAsync(
            HttpMethod.Get,
            $"{_indices.Services},{_indices.Changes},{_indices.ObservationsPattern}/_stats/store?ignore_unavailable=true&allow_no_indices=true",
            null,
            cancellationToken).ConfigureAwait(false);
        var bytes = storeStats["_all"]?["total"]?["store"]?["size_in_bytes"]?.GetValue<long>() ?? 0;
        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["url"] = Url,
            ["cluster"] = ClusterName,
            ["version"] = ClusterVersion,
            ["services_index"] = _indices.Services,
            ["observations_indices"] = _indices.ObservationsPattern,
            ["changes_index"] = _indices.Changes,
            ["hosts_exact_below"] = "40000",
            ["retries"] = _client.Retries.ToString(CultureInfo.InvariantCulture),
        };
        return new StoreStats(Total(answer), hosts, observations, changes, bytes, details);
    }

    public ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _client.Dispose();
            _writerGate.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Deletes every index and template of this store (tests and teardown). Names are listed, not wildcarded,
    /// because clusters refuse wildcard deletes by default (action.destructive_requires_name).</summary>
    internal async Task DeleteEverythingAsync(CancellationToken cancellationToken)
    {
        var resolved = await _client.GetObjectAsync(HttpMethod.Get, $"_resolve/index/{_indices.Prefix}-*", null, cancellationToken).ConfigureAwait(false);
        var names = (resolved["indices"] as JsonArray ?? [])
            .Select(i => i?["name"]?.GetValue<string>())
            .Where(n => n is not null && (n == _indices.Services || n == _indices.Changes || n.StartsWith(_indices.Prefix + "-observations-", StringComparison.Ordinal)))
            .ToList();
        if (names.Count > 0)
        {
            await _client.RequestAsync(HttpMethod.Delete, string.Join(',', names), null, cancellationToken, 404).ConfigureAwait(false);
        }

        foreach (var (name, _) in ElasticMappings.Templates(_indices, _options))
        {
            await _client.RequestAsync(HttpMethod.Delete, "_index_template/" + name, null, cancellationToken, 404).ConfigureAwait(false);
        }
    }

    private static (string ClusterName, string Version) CheckCluster(string url, JsonObject info)
    {
        var version = info["version"]?["number"]?.GetValue<string>();
        var distribution = info["version"]?["distribution"]?.GetValue<string>();
        if (version is null)
        {
            throw new ElasticException($"{url} answered GET / without version.number: it does not look like Elasticsearch");
        }

        if (string.Equals(distribution, "opensearch", StringComparison.OrdinalIgnoreCase))
        {
            throw new ElasticException($"{url} is OpenSearch {version}; the Elasticsearch store needs Elasticsearch 7.10 or later (point in time, case_insensitive queries)");
        }

        var parts = version.Split('.', '-');
        if (parts.Length < 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            || major < 7 || (major == 7 && minor < 10))
        {
            throw new ElasticException($"Elasticsearch at {url} is version {version}; the store needs 7.10 or later (point in time, case_insensitive queries)");
        }

        return (info["cluster_name"]?.GetValue<string>() ?? string.Empty, version);
    }

    private async Task CheckSchemaAsync(string index, CancellationToken cancellationToken)
    {
        var mapping = await _client.GetObjectAsync(HttpMethod.Get, index + "/_mapping", null, cancellationToken).ConfigureAwait(false);
        var meta = mapping.FirstOrDefault().Value?["mappings"]?["_meta"];
        var version = meta?["schema_version"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : (int?)null;
        if (version != ElasticMappings.SchemaVersion || meta?["managed_by"]?.GetValue<string>() != "exposureindex")
        {
            throw new ElasticException(
                $"index {index} at {Url} was not created by this version of ExposureIndex (schema {version?.ToString(CultureInfo.InvariantCulture) ?? "none"}, expected {ElasticMappings.SchemaVersion}); use another --store prefix or reindex");
        }
    }

    private async Task<long> MaxAsync(string index, string field, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["size"] = 1,
            ["track_total_hits"] = false,
            ["_source"] = false,
            ["sort"] = new JsonArray(new JsonObject { [field] = "desc" }),
        };
        var answer = await _client.SearchAsync(index, body, cancellationToken).ConfigureAwait(false);
        var first = Hits(answer).FirstOrDefault();
        return first?["sort"]?[0] is JsonValue value && value.TryGetValue<long>(out var max) ? max : 0;
    }

    /// <summary>The stored services of the batch's keys (mget is real-time: no refresh needed to read own writes).</summary>
    private async Task<Dictionary<string, ServiceState>> ReadStatesAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken)
    {
        var keys = records.Select(ElasticDocuments.KeyOf).Distinct(StringComparer.Ordinal).ToList();
        var states = new Dictionary<string, ServiceState>(StringComparer.Ordinal);
        var source = new JsonArray(ElasticDocuments.StateSource.Select(s => (JsonNode?)s).ToArray());
        foreach (var chunk in keys.Chunk(MultiGetChunk))
        {
            var docs = new JsonArray(chunk.Select(key => (JsonNode?)new JsonObject
            {
                ["_index"] = _indices.Services,
                ["_id"] = key,
                ["_source"] = source.DeepClone(),
            }).ToArray());
            var found = await _client.MultiGetAsync(docs, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < chunk.Length; i++)
            {
                if (Found(found[i], _indices.Services, chunk[i]) is { } doc)
                {
                    states[chunk[i]] = ServiceState.FromDocument(
                        chunk[i],
                        Source(doc),
                        doc["_seq_no"]?.GetValue<long>(),
                        doc["_primary_term"]?.GetValue<long>());
                }
            }
        }

        return states;
    }

    /// <summary>
    /// Which of the batch's observations are already in history, and the batch that wrote each. Only asked for what
    /// the planner may consult: an observation of a stored service no newer than its stored last_seen.
    /// </summary>
    private async Task<Dictionary<string, long>> ReadHistoryAsync(IReadOnlyList<ServiceRecord> records, Dictionary<string, ServiceState> states, CancellationToken cancellationToken)
    {
        var candidates = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            if (states.TryGetValue(ElasticDocuments.KeyOf(record), out var state) && ElasticDocuments.Micros(record.Timestamp) <= state.StoredLastSeen)
            {
                candidates.TryAdd(Contracts.RecordIdentity.Compute(record), ElasticDocuments.ObservationIndex(_indices.Prefix, record));
            }
        }

        var present = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var chunk in candidates.Chunk(MultiGetChunk))
        {
            var docs = new JsonArray(chunk.Select(c => (JsonNode?)new JsonObject { ["_index"] = c.Value, ["_id"] = c.Key, ["_source"] = new JsonArray("batch") }).ToArray());
            var found = await _client.MultiGetAsync(docs, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < chunk.Length; i++)
            {
                if (Found(found[i], chunk[i].Value, chunk[i].Key) is { } doc)
                {
                    present[chunk[i].Key] = doc["_source"] is JsonObject source ? ElasticDocuments.Long(source, "batch") : 0;
                }
            }
        }

        return present;
    }

    /// <summary>An mget answer item: the document, or null when missing (or its index does not exist yet).</summary>
    private JsonObject? Found(JsonNode? item, string index, string id)
    {
        if (item is not JsonObject doc)
        {
            throw new ElasticException($"Elasticsearch at {Url} answered _mget for {index}/{id} with something that is not a document");
        }

        if (doc["error"] is not null)
        {
            var (type, reason) = ElasticClient.ErrorOf(doc);
            if (type == "index_not_found_exception")
            {
                return null;
            }

            throw new ElasticException($"Elasticsearch at {Url} could not read {index}/{id}: {type}: {reason}", null, type, reason);
        }

        return doc["found"] is JsonValue f && f.TryGetValue<bool>(out var isFound) && isFound ? doc : null;
    }

    private async Task WriteAsync(IngestPlan plan, CancellationToken cancellationToken)
    {
        foreach (var index in plan.Observations.Select(o => o.Index).Distinct(StringComparer.Ordinal))
        {
            // Created explicitly, so clusters with action.auto_create_index off work too.
            if (!_knownIndices.Contains(index))
            {
                await _client.CreateIndexIfMissingAsync(index, cancellationToken).ConfigureAwait(false);
                _knownIndices.Add(index);
            }
        }

        var history = new List<BulkOperation>(plan.Observations.Count + plan.Changes.Count);
        history.AddRange(plan.Observations.Select(o => new BulkOperation(BulkAction.Index, o.Index, o.Id, ElasticDocuments.ObservationDocument(o.Record, o.Key, o.Id, plan.Batch))));

        // One event per observation at most, so the observation's identity is the event's id: a resent batch rewrites it.
        history.AddRange(plan.Changes.Select(c => new BulkOperation(BulkAction.Index, _indices.Changes, c.RecordId, ElasticDocuments.ChangeDocument(c))));
        if (history.Count > 0)
        {
            var result = await _client.BulkAsync(history, _options.RefreshParameter, cancellationToken).ConfigureAwait(false);
            result.ThrowIfFailed(Url, "history and change-event writes (nothing of this batch is current yet; resend it)");
        }

        var services = plan.Services.Select(s => s.SeqNo is { } seqNo && s.PrimaryTerm is { } term
                ? new BulkOperation(BulkAction.Index, _indices.Services, s.Key, ElasticDocuments.ServiceDocument(s, plan.Batch), seqNo, term)
                : new BulkOperation(BulkAction.Create, _indices.Services, s.Key, ElasticDocuments.ServiceDocument(s, plan.Batch)))
            .ToList();
        if (services.Count > 0)
        {
            var result = await _client.BulkAsync(services, _options.RefreshParameter, cancellationToken).ConfigureAwait(false);
            if (result.Failures.Any(f => f.Status == 409))
            {
                result.ThrowIfFailed(Url, "service writes: another writer changed these services since they were read (version conflict); resend the batch");
            }

            result.ThrowIfFailed(Url, "service writes (history is stored; resend the batch to finish it)");
        }
    }

    private async Task<List<StoredService>> DeepPageAsync(JsonObject query, int offset, int limit, CancellationToken cancellationToken)
    {
        var page = new List<StoredService>(Math.Min(limit, _options.PageSize));
        var pit = await _client.OpenPointInTimeAsync(_indices.Services, PointInTimeKeepAlive, cancellationToken).ConfigureAwait(false);
        try
        {
            JsonNode? after = null;
            var skipped = 0;
            while (page.Count < limit)
            {
                // Skipped pages carry no _source; the wanted ones carry the read fields.
                var skipping = skipped < offset;
                var size = skipping ? Math.Min(MaxResultWindow, offset - skipped) : Math.Min(_options.PageSize, limit - page.Count);
                var body = new JsonObject
                {
                    ["size"] = size,
                    ["track_total_hits"] = false,
                    ["query"] = query.DeepClone(),
                    ["sort"] = ElasticQueryCompiler.ServiceSort(),
                    ["_source"] = skipping ? false : new JsonArray(ElasticDocuments.ServiceSource.Select(s => (JsonNode?)s).ToArray()),
                    ["pit"] = new JsonObject { ["id"] = pit, ["keep_alive"] = PointInTimeKeepAlive },
                };
                if (after is not null)
                {
                    body["search_after"] = after.DeepClone();
                }

                var answer = await _client.SearchAsync(string.Empty, body, cancellationToken).ConfigureAwait(false);
                pit = answer["pit_id"]?.GetValue<string>() ?? pit;
                var hits = Hits(answer);
                if (hits.Count == 0)
                {
                    break;
                }

                if (skipping)
                {
                    skipped += hits.Count;
                }
                else
                {
                    page.AddRange(hits.Select(h => ToStored(h)));
                }

                after = hits[^1]["sort"] ?? throw new ElasticException($"Elasticsearch at {Url} answered a sorted search without sort values");
                if (hits.Count < size)
                {
                    break;
                }
            }
        }
        finally
        {
            await ClosePointInTimeQuietlyAsync(pit).ConfigureAwait(false);
        }

        return page;
    }

    /// <summary>
    /// Every hit of a query in sort order, a page at a time with search_after; over a point in time (a consistent
    /// snapshot) when asked. Ends because every page moves strictly forward in a total order (the sorts end in a
    /// unique field).
    /// </summary>
    private async IAsyncEnumerable<JsonObject> WalkAsync(string index, JsonObject query, JsonArray sort, string[] source, bool pointInTime, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pit = pointInTime ? await _client.OpenPointInTimeAsync(index, PointInTimeKeepAlive, cancellationToken).ConfigureAwait(false) : null;
        try
        {
            JsonNode? after = null;
            while (true)
            {
                var body = new JsonObject
                {
                    ["size"] = _options.PageSize,
                    ["track_total_hits"] = false,
                    ["query"] = query.DeepClone(),
                    ["sort"] = sort.DeepClone(),
                    ["_source"] = new JsonArray(source.Select(s => (JsonNode?)s).ToArray()),
                };
                if (pit is not null)
                {
                    body["pit"] = new JsonObject { ["id"] = pit, ["keep_alive"] = PointInTimeKeepAlive };
                }

                if (after is not null)
                {
                    body["search_after"] = after.DeepClone();
                }

                var answer = await _client.SearchAsync(pit is null ? index : string.Empty, body, cancellationToken).ConfigureAwait(false);
                if (pit is not null)
                {
                    pit = answer["pit_id"]?.GetValue<string>() ?? pit;
                }

                var hits = Hits(answer);
                foreach (var hit in hits)
                {
                    yield return hit;
                }

                if (hits.Count < _options.PageSize)
                {
                    yield break;
                }

                var next = hits[^1]["sort"] ?? throw new ElasticException($"Elasticsearch at {Url} answered a sorted search without sort values");
                if (after is not null && JsonNode.DeepEquals(after, next))
                {
                    throw new ElasticException($"Elasticsearch at {Url} answered the page after {next.ToJsonString()} of {index} with the same page again");
                }

                after = next;
            }
        }
        finally
        {
            if (pit is not null)
            {
                await ClosePointInTimeQuietlyAsync(pit).ConfigureAwait(false);
            }
        }
    }

    private async Task ClosePointInTimeQuietlyAsync(string pit)
    {
        try
        {
            // Not the caller's token: a cancelled export still releases its snapshot. Bounded by the request timeout.
            await _client.ClosePointInTimeAsync(pit, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ElasticException)
        {
            // The keep-alive expires it anyway.
        }
    }

    private static List<JsonObject> Hits(JsonObject answer)
        => (answer["hits"]?["hits"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];

    private static long Total(JsonObject answer)
        => answer["hits"]?["total"] switch
        {
            JsonObject total => total["value"]?.GetValue<long>() ?? 0,
            JsonValue value when value.TryGetValue<long>(out var n) => n,
            _ => 0,
        };

    private static JsonObject Source(JsonObject hit)
        => hit["_source"] as JsonObject ?? throw new StoreCorruptException($"Elasticsearch document {Where(hit)} came back without its _source");

    private static string Where(JsonObject hit)
        => $"{hit["_index"]?.GetValue<string>()}/{hit["_id"]?.GetValue<string>()}";

    private static StoredService ToStored(JsonObject hit) => ElasticDocuments.ToStoredService(Source(hit), Where(hit));

    private static JsonObject Term(string field, string value) => new() { ["term"] = new JsonObject { [field] = value } };
}
