using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ExposureIndex.Storage.Tests.Elastic;

/// <summary>
/// An in-process stand-in for the few Elasticsearch document APIs the store's write path uses: GET /, index
/// templates, index creation, _mget (real-time, with _seq_no/_primary_term and index_not_found items), _bulk
/// (index/create with if_seq_no/if_primary_term, per-item 201/200/409) and the "largest value of a field" search the
/// store runs at open. It does not evaluate queries: search semantics are the conformance suite's job on a real
/// cluster. Tests use it to check what the store decides and writes.
/// </summary>
internal sealed class FakeElasticsearch : HttpMessageHandler
{
    private readonly object _gate = new();

    public Dictionary<string, Dictionary<string, FakeDocument>> Indices { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, JsonObject> Templates { get; } = new(StringComparer.Ordinal);

    public List<string> Requests { get; } = [];

    /// <summary>Indices created through PUT /index (their template's mapping applies); others were written without one.</summary>
    public HashSet<string> Created { get; } = new(StringComparer.Ordinal);

    /// <summary>Answer the next _bulk whose first action targets an index ending in this suffix with 400 for every item.</summary>
    public string? RejectNextBulkTo { get; set; }

    /// <summary>Runs just before the next _bulk whose first action targets an index ending in Suffix is applied (e.g. another writer changing a document).</summary>
    public (string Suffix, Action<FakeElasticsearch> Action)? BeforeNextBulkTo { get; set; }

    public string Version { get; set; } = "8.13.4";

    public string? Distribution { get; set; }

    public IReadOnlyDictionary<string, FakeDocument> Index(string name)
    {
        lock (_gate)
        {
            return Indices.TryGetValue(name, out var docs) ? new Dictionary<string, FakeDocument>(docs) : new Dictionary<string, FakeDocument>();
        }
    }

    public IEnumerable<(string Index, FakeDocument Doc)> AllDocuments(string indexPrefix)
    {
        lock (_gate)
        {
            return Indices.Where(i => i.Key.StartsWith(indexPrefix, StringComparison.Ordinal))
                .SelectMany(i => i.Value.Values.Select(d => (i.Key, d)))
                .ToList();
        }
    }

    /// <summary>Stores a document as another writer would (bumps its sequence number).</summary>
    public void Put(string index, string id, JsonObject source)
    {
        lock (_gate)
        {
            var docs = GetOrCreate(index);
            docs[id] = new FakeDocument(id, source, docs.TryGetValue(id, out var old) ? old.SeqNo + 1 : NextSeqNo(docs));
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
        var path = request.RequestUri!.AbsolutePath.TrimStart('/');
        var query = request.RequestUri.Query;
        lock (_gate)
        {
            Requests.Add($"{request.Method} /{path}{query}");
            var (status, answer) = Route(request.Method, Uri.UnescapeDataString(path), query, body);
            return new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent(answer.ToJsonString(), Encoding.UTF8, "application/json") };
        }
    }

    private (int, JsonNode) Route(HttpMethod method, string path, string query, string body)
    {
        if (method == HttpMethod.Get && path.Length == 0)
        {
            var version = new JsonObject { ["number"] = Version };
            if (Distribution is not null)
            {
                version["distribution"] = Distribution;
            }

            return (200, new JsonObject { ["cluster_name"] = "fake", ["version"] = version, ["tagline"] = "You Know, for Search" });
        }

        if (method == HttpMethod.Put && path.StartsWith("_index_template/", StringComparison.Ordinal))
        {
            Templates[path["_index_template/".Length..]] = JsonNode.Parse(body)!.AsObject();
            return (200, new JsonObject { ["acknowledged"] = true });
        }

        if (method == HttpMethod.Put && !path.Contains('/', StringComparison.Ordinal))
        {
            if (Indices.ContainsKey(path))
            {
                return (400, Error("resource_already_exists_exception", $"index [{path}] already exists"));
            }

            Indices[path] = new Dictionary<string, FakeDocument>(StringComparer.Ordinal);
            Created.Add(path);
            return (200, new JsonObject { ["acknowledged"] = true, ["index"] = path });
        }

        if (method == HttpMethod.Get && path.EndsWith("/_mapping", StringComparison.Ordinal))
        {
            var index = path[..^"/_mapping".Length];
            var template = Templates.Values.FirstOrDefault(t => t["index_patterns"]![0]!.GetValue<string>() == index);
            return Indices.ContainsKey(index)
                ? (200, new JsonObject { [index] = new JsonObject { ["mappings"] = Created.Contains(index) && template is not null ? template["template"]!["mappings"]!.DeepClone() : new JsonObject() } })
                : (404, Error("index_not_found_exception", $"no such index [{index}]"));
        }

        if (method == HttpMethod.Post && path == "_mget")
        {
            return (200, MultiGet(JsonNode.Parse(body)!.AsObject()));
        }

        if (method == HttpMethod.Post && path == "_bulk")
        {
            return (200, Bulk(body));
        }

        if (method == HttpMethod.Post && path.EndsWith("/_search", StringComparison.Ordinal))
        {
            return Max(path[..^"/_search".Length], JsonNode.Parse(body)!.AsObject());
        }

        return (400, Error("fake_unsupported", $"the fake does not implement {method} /{path}{query}"));
    }

    private JsonObject MultiGet(JsonObject request)
    {
        var answers = new JsonArray();
        foreach (var item in request["docs"]!.AsArray())
        {
            var index = item!["_index"]!.GetValue<string>();
            var id = item["_id"]!.GetValue<string>();
            if (!Indices.TryGetValue(index, out var docs))
            {
                answers.Add(new JsonObject { ["_index"] = index, ["_id"] = id, ["error"] = Error("index_not_found_exception", $"no such index [{index}]")["error"]!.DeepClone() });
                continue;
            }

            if (!docs.TryGetValue(id, out var doc))
            {
                answers.Add(new JsonObject { ["_index"] = index, ["_id"] = id, ["found"] = false });
                continue;
            }

            var answer = new JsonObject { ["_index"] = index, ["_id"] = id, ["_seq_no"] = doc.SeqNo, ["_primary_term"] = 1, ["found"] = true };
            if (item["_source"] is not JsonValue noSource || noSource.GetValue<bool>())
            {
                answer["_source"] = doc.Source.DeepClone();
            }

            answers.Add(answer);
        }

        return new JsonObject { ["docs"] = answers };
    }

    private JsonObject Bulk(string body)
    {
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var firstIndex = JsonNode.Parse(lines[0])!.AsObject().First().Value!["_index"]!.GetValue<string>();
        if (BeforeNextBulkTo is { } hook && firstIndex.EndsWith(hook.Suffix, StringComparison.Ordinal))
        {
            BeforeNextBulkTo = null;
            hook.Action(this);
        }

        var reject = RejectNextBulkTo is { } suffix && firstIndex.EndsWith(suffix, StringComparison.Ordinal);
        if (reject)
        {
            RejectNextBulkTo = null;
        }

        var items = new JsonArray();
        var errors = false;
        for (var i = 0; i + 1 < lines.Length; i += 2)
        {
            var action = JsonNode.Parse(lines[i])!.AsObject().First();
            var meta = action.Value!.AsObject();
            var index = meta["_index"]!.GetValue<string>();
            var id = meta["_id"]!.GetValue<string>();
            var source = JsonNode.Parse(lines[i + 1])!.AsObject();
            int status;
            JsonObject? error = null;
            var docs = GetOrCreate(index);
            docs.TryGetValue(id, out var existing);
            if (reject)
            {
                status = 400;
                error = Error("mapper_parsing_exception", "rejected by the test")["error"]!.DeepClone().AsObject();
            }
            else if (action.Key == "create" && existing is not null)
            {
                status = 409;
                error = Error("version_conflict_engine_exception", $"[{id}]: version conflict, document already exists")["error"]!.DeepClone().AsObject();
            }
            else if (meta["if_seq_no"] is JsonValue seqNo && (existing is null || existing.SeqNo != seqNo.GetValue<long>()))
            {
                status = 409;
                error = Error("version_conflict_engine_exception", $"[{id}]: version conflict, required seqNo [{seqNo}]")["error"]!.DeepClone().AsObject();
            }
            else
            {
                status = existing is null ? 201 : 200;
                docs[id] = new FakeDocument(id, source, existing is null ? NextSeqNo(docs) : existing.SeqNo + 1);
            }

            var result = new JsonObject { ["_index"] = index, ["_id"] = id, ["status"] = status };
            if (error is not null)
            {
                result["error"] = error;
                errors = true;
            }

            items.Add(new JsonObject { [action.Key] = result });
        }

        return new JsonObject { ["errors"] = errors, ["items"] = items };
    }

    /// <summary>Only the store's "largest value" query: size 1, one descending sort on a long field.</summary>
    private (int, JsonNode) Max(string index, JsonObject body)
    {
        var sort = body["sort"]?[0]?.AsObject().First();
        if (body["size"]?.GetValue<int>() != 1 || sort is null || sort.Value.Value?.GetValue<string>() != "desc")
        {
            return (400, Error("fake_unsupported", "the fake only answers the largest-value search"));
        }

        var field = sort.Value.Key;
        var best = Indices.TryGetValue(index, out var docs)
            ? docs.Values.Where(d => d.Source[field] is not null).OrderByDescending(d => d.Source[field]!.GetValue<long>()).FirstOrDefault()
            : null;
        var hits = new JsonArray();
        if (best is not null)
        {
            hits.Add(new JsonObject { ["_index"] = index, ["_id"] = best.Id, ["sort"] = new JsonArray(best.Source[field]!.GetValue<long>()) });
        }

        return (200, new JsonObject { ["hits"] = new JsonObject { ["hits"] = hits } });
    }

    private Dictionary<string, FakeDocument> GetOrCreate(string index)
    {
        if (!Indices.TryGetValue(index, out var docs))
        {
            docs = new Dictionary<string, FakeDocument>(StringComparer.Ordinal);
            Indices[index] = docs;
        }

        return docs;
    }

    private static long NextSeqNo(Dictionary<string, FakeDocument> docs) => docs.Count == 0 ? 0 : docs.Values.Max(d => d.SeqNo) + 1;

    private static JsonObject Error(string type, string reason)
        => new() { ["error"] = new JsonObject { ["type"] = type, ["reason"] = reason }, ["status"] = 400 };
}

internal sealed record FakeDocument(string Id, JsonObject Source, long SeqNo);
