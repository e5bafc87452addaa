using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ExposureIndex.Storage.Elastic;

/// <summary>
/// A small Elasticsearch 8.x REST client over <see cref="HttpClient"/> and System.Text.Json (the official client is
/// not installable here). It does what the store needs and no more: JSON requests with per-attempt timeouts and
/// bounded, exponentially backed-off retries of 429/502/503/504 answers and connection errors; <c>_bulk</c> NDJSON
/// with per-item results (retryable items are resent alone, the others are reported precisely); and the few
/// endpoints the store calls (search, count, mget, point in time, index templates, index creation).
/// Every request the store sends is idempotent (documents carry explicit ids), so retrying is always safe.
/// </summary>
internal sealed class ElasticClient : IDisposable
{
    /// <summary>Trims bulk answers to what we read (REST API conventions, "Response filtering").</summary>
    private const string BulkFilterPath = "errors,items.*._index,items.*._id,items.*.status,items.*.error";

    private static readonly JsonSerializerOptions WireOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly ElasticStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly AuthenticationHeaderValue? _authorization;
    private long _retries;

    public ElasticClient(Uri url, ElasticStoreOptions options, HttpMessageHandler? handler = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(options);
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{url}' is not an http(s) Elasticsearch URL", nameof(url));
        }

        _options = options;
        _time = time ?? TimeProvider.System;
        var path = url.AbsolutePath.EndsWith('/') ? url.AbsolutePath : url.AbsolutePath + "/";
        _base = new UriBuilder(url.Scheme, url.Host, url.Port, path).Uri;
        DisplayUrl = _base.ToString();
        _authorization = Authorization(url, options);
        _http = handler is null
            ? new HttpClient(new SocketsHttpHandler
            {
                ConnectTimeout = options.ConnectTimeout,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            })
            : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan; // per attempt, below
    }

    /// <summary>The cluster URL without credentials, for messages.</summary>
    public string DisplayUrl { get; }

    /// <summary>Requests and bulk items retried so far (for stats).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    public static byte[] Serialize(JsonNode node)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = WireOptions.Encoder, SkipValidation = true }))
        {
            node.WriteTo(writer, WireOptions);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Sends a JSON request and returns the answer's body; any status but 2xx (or one of <paramref name="accepted"/>) throws.</summary>
    public async Task<JsonNode?> RequestAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken, params int[] accepted)
    {
        var response = await SendAsync(method, path, body is null ? null : Serialize(body), "application/json", cancellationToken).ConfigureAwait(false);
        if (response.IsSuccess || accepted.Contains(response.Status))
        {
            return response.Body;
        }

        throw Failure(method, path, response);
    }

    public async Task<JsonObject> GetObjectAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
        => await RequestAsync(method, path, body, cancellationToken).ConfigureAwait(false) as JsonObject
           ?? throw new ElasticException($"Elasticsearch at {DisplayUrl} answered {method} /{path} with a body that is not a JSON object");

    public Task<JsonObject> SearchAsync(string index, JsonObject body, CancellationToken cancellationToken)
        => GetObjectAsync(HttpMethod.Post, index.Length == 0 ? "_search" : index + "/_search", body, cancellationToken);

    public async Task<long> CountAsync(string index, JsonObject? query, CancellationToken cancellationToken)
    {
        var body = query is null ? null : new JsonObject { ["query"] = query };
        var answer = await GetObjectAsync(body is null ? HttpMethod.Get : HttpMethod.Post, index + "/_count", body, cancellationToken).ConfigureAwait(false);
        return answer["count"]?.GetValue<long>() ?? throw new ElasticException($"Elasticsearch at {DisplayUrl} answered /{index}/_count without a count");
    }

    /// <summary>GET /_mget for <paramref name="docs"/> (each <c>{_index, _id, _source}</c>); the answers come back in request order.</summary>
    public async Task<JsonArray> MultiGetAsync(JsonArray docs, CancellationToken cancellationToken)
    {
        var expected = docs.Count;
        var answer = await GetObjectAsync(HttpMethod.Post, "_mget", new JsonObject { ["docs"] = docs }, cancellationToken).ConfigureAwait(false);
        if (answer["docs"] is not JsonArray found || found.Count != expected)
        {
            throw new ElasticException($"Elasticsearch at {DisplayUrl} answered _mget for {expected} documents with {(answer["docs"] as JsonArray)?.Count ?? 0}");
        }

        return found;
    }

    /// <summary>Opens a point in time over <paramref name="index"/> (ES 7.10+, "Point in time API").</summary>
    public async Task<string> OpenPointInTimeAsync(string index, string keepAlive, CancellationToken cancellationToken)
    {
        var answer = await GetObjectAsync(HttpMethod.Post, $"{index}/_pit?keep_alive={keepAlive}", null, cancellationToken).ConfigureAwait(false);
        return answer["id"]?.GetValue<string>() ?? throw new ElasticException($"Elasticsearch at {DisplayUrl} opened a point in time over {index} without an id");
    }

    public async Task ClosePointInTimeAsync(string id, CancellationToken cancellationToken)
        => await RequestAsync(HttpMethod.Delete, "_pit", new JsonObject { ["id"] = id }, cancellationToken, 404).ConfigureAwait(false);

    public async Task PutIndexTemplateAsync(string name, JsonObject template, CancellationToken cancellationToken)
        => await RequestAsync(HttpMethod.Put, "_index_template/" + name, template, cancellationToken).ConfigureAwait(false);

    /// <summary>Creates <paramref name="index"/> (its template applies); false when it existed already.</summary>
    public async Task<bool> CreateIndexIfMissingAsync(string index, CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Put, index, null, "application/json", cancellationToken).ConfigureAwait(false);
        if (response.IsSuccess)
        {
            return true;
        }

        if (response.Status == 400 && ErrorOf(response.Body).Type == "resource_already_exists_exception")
        {
            return false;
        }

        throw Failure(HttpMethod.Put, index, response);
    }

    /// <summary>
    /// Runs <paramref name="operations"/> through <c>_bulk</c>. Items answered 429/502/503/504 are resent (alone,
    /// with backoff) up to <see cref="ElasticStoreOptions.MaxAttempts"/> times; every other failed item, and any item
    /// still failing after the last attempt, is returned in <see cref="BulkResult.Failures"/>. A request that fails as
    /// a whole (after its own retries) throws <see cref="ElasticException"/>.
    /// </summary>
    public async Task<BulkResult> BulkAsync(IReadOnlyList<BulkOperation> operations, string refresh, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var lines = operations.Select(op => op.ToNdjson()).ToArray();
        var failures = new List<ElasticBulkFailure>();
        var pending = Enumerable.Range(0, operations.Count).ToList();
        var path = $"_bulk?refresh={refresh}&filter_path={BulkFilterPath}";
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            var retry = new List<(int Index, ElasticBulkFailure Failure)>();
            foreach (var chunk in Chunks(pending, lines))
            {
                var body = new byte[chunk.Sum(i => lines[i].Length)];
                var at = 0;
                foreach (var i in chunk)
                {
                    lines[i].CopyTo(body, at);
                    at += lines[i].Length;
                }

                var response = await SendAsync(HttpMethod.Post, path, body, "application/x-ndjson", cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccess)
                {
                    throw Failure(HttpMethod.Post, "_bulk", response);
                }

                if (response.Body?["items"] is not JsonArray items || items.Count != chunk.Count)
                {
                    throw new ElasticException($"Elasticsearch at {DisplayUrl} answered a _bulk of {chunk.Count} operations with {(response.Body?["items"] as JsonArray)?.Count ?? 0} items");
                }

                for (var k = 0; k < chunk.Count; k++)
                {
                    var op = operations[chunk[k]];
                    var result = (items[k] as JsonObject)?.FirstOrDefault().Value as JsonObject;
                    var status = result?["status"]?.GetValue<int>() ?? 0;
                    if (status is >= 200 and < 300)
                    {
                        continue;
                    }

                    var error = ErrorOf(result);
                    var failure = new ElasticBulkFailure(op.ActionName, op.Index, op.Id, status, error.Type, error.Reason);
                    if (IsRetryable(status))
                    {
                        retry.Add((chunk[k], failure));
                    }
                    else
                    {
                        failures.Add(failure);
                    }
                }
            }

            if (retry.Count == 0)
            {
                break;
            }

            if (attempt >= _options.MaxAttempts)
            {
                failures.AddRange(retry.Select(r => r.Failure with { Reason = $"{r.Failure.Reason} (still failing after {attempt} attempts)" }));
                break;
            }

            Interlocked.Add(ref _retries, retry.Count);
            pending = retry.Select(r => r.Index).ToList();
            await Task.Delay(Backoff(attempt), _time, cancellationToken).ConfigureAwait(false);
        }

        return new BulkResult(operations.Count, failures);
    }

    /// <summary>
    /// One request with retries: 429/502/503/504 answers, connection errors and attempts that exceed
    /// <see cref="ElasticStoreOptions.RequestTimeout"/> are retried with exponential backoff, at most
    /// <see cref="ElasticStoreOptions.MaxAttempts"/> times in all. Other answers (errors included) are returned.
    /// </summary>
    public async Task<ElasticResponse> SendAsync(HttpMethod method, string path, byte[]? body, string contentType, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attemptCts.CancelAfter(_options.RequestTimeout);
            string problem;
            Exception? cause;
            try
            {
                using var request = new HttpRequestMessage(method, new Uri(_base, path));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                request.Headers.Authorization = _authorization;
                if (body is not null)
                {
                    request.Content = new ByteArrayContent(body);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType, "utf-8");
                }

                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, attemptCts.Token).ConfigureAwait(false);
                var bytes = await response.Content.ReadAsByteArrayAsync(attemptCts.Token).ConfigureAwait(false);
                var answer = ElasticResponse.From((int)response.StatusCode, bytes);
                if (!IsRetryable(answer.Status) || attempt >= _options.MaxAttempts)
                {
                    return answer;
                }

                problem = string.Create(CultureInfo.InvariantCulture, $"status {answer.Status}");
                cause = null;
            }
            catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
            {
                problem = ex.Message;
                cause = ex;
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                problem = string.Create(CultureInfo.InvariantCulture, $"no answer within {_options.RequestTimeout.TotalSeconds:0.###} s");
                cause = ex;
            }

            if (attempt >= _options.MaxAttempts)
            {
                throw new ElasticException(
                    string.Create(CultureInfo.InvariantCulture, $"Elasticsearch at {DisplayUrl} is unreachable: {method} /{path} failed {attempt} times, last with: {problem}"),
                    null,
                    null,
                    problem,
                    cause);
            }

            Interlocked.Increment(ref _retries);
            await Task.Delay(Backoff(attempt), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The exception for an unexpected answer, naming the cluster, the request and Elasticsearch's error.</summary>
    public ElasticException Failure(HttpMethod method, string path, ElasticResponse response)
    {
        var (type, reason) = ErrorOf(response.Body);
        reason ??= response.Text is { Length: > 0 } text ? (text.Length > 300 ? text[..300] + "..." : text) : null;
        var detail = type is null && reason is null ? string.Empty : $" ({type}{(type is null ? string.Empty : ": ")}{reason})";
        var queryless = path.Split('?')[0];
        return new ElasticException(
            string.Create(CultureInfo.InvariantCulture, $"Elasticsearch at {DisplayUrl} answered {response.Status}{detail} to {method} /{queryless}"),
            response.Status,
            type,
            reason);
    }

    /// <summary>Elasticsearch's error object: <c>{"error": {"type", "reason"}}</c>, or <c>{"error": "text"}</c> on some endpoints.</summary>
    public static (string? Type, string? Reason) ErrorOf(JsonNode? body)
    {
        var error = body?["error"];
        return error switch
        {
            JsonObject o => (o["type"]?.GetValue<string>(), o["reason"]?.GetValue<string>()),
            JsonValue v when v.TryGetValue<string>(out var s) => (null, s),
            _ => (null, null),
        };
    }

    /// <summary>Too many requests, bad gateway, unavailable, gateway timeout: the cluster is busy or failing over.</summary>
    public static bool IsRetryable(int status) => status is 429 or 502 or 503 or 504;

    internal TimeSpan Backoff(int attempt)
    {
        var factor = Math.Pow(2, Math.Min(attempt - 1, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(_options.RetryBaseDelay.Ticks * factor, _options.RetryMaxDelay.Ticks));
        return delay;
    }

    private IEnumerable<List<int>> Chunks(List<int> pending, byte[][] lines)
    {
        var chunk = new List<int>();
        long bytes = 0;
        foreach (var i in pending)
        {
            if (chunk.Count > 0 && bytes + lines[i].Length > _options.BulkMaxBytes)
            {
                yield return chunk;
                chunk = [];
                bytes = 0;
            }

            chunk.Add(i);
            bytes += lines[i].Length;
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    private static AuthenticationHeaderValue? Authorization(Uri url, ElasticStoreOptions options)
    {
        if (options.ApiKey is { Length: > 0 } key)
        {
            return new AuthenticationHeaderValue("ApiKey", key);
        }

        string? user = options.Username;
        string? password = options.Password;
        if (user is null && url.UserInfo.Length > 0)
        {
            var colon = url.UserInfo.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(colon < 0 ? url.UserInfo : url.UserInfo[..colon]);
            password = colon < 0 ? string.Empty : Uri.UnescapeDataString(url.UserInfo[(colon + 1)..]);
        }

        return user is null
            ? null
            : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + (password ?? string.Empty))));
    }
}

/// <summary>An answer: status and parsed JSON body (null when empty or not JSON; then <see cref="Text"/> has it).</summary>
internal sealed record ElasticResponse(int Status, JsonNode? Body, string? Text)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    public static ElasticResponse From(int status, byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return new ElasticResponse(status, null, null);
        }

        try
        {
            return new ElasticResponse(status, JsonNode.Parse(bytes), null);
        }
        catch (JsonException)
        {
            return new ElasticResponse(status, null, Encoding.UTF8.GetString(bytes));
        }
    }
}

internal enum BulkAction
{
    /// <summary>Create or replace the document.</summary>
    Index = 1,

    /// <summary>Create the document; 409 when it exists.</summary>
    Create = 2,
}

/// <summary>One <c>_bulk</c> operation with its document; optimistic concurrency via if_seq_no/if_primary_term.</summary>
internal sealed record BulkOperation(BulkAction Action, string Index, string Id, JsonObject Document, long? IfSeqNo = null, long? IfPrimaryTerm = null)
{
    public string ActionName => Action == BulkAction.Create ? "create" : "index";

    /// <summary>The action line and the source line, each ending in a newline (the _bulk NDJSON format).</summary>
    public byte[] ToNdjson()
    {
        var meta = new JsonObject { ["_index"] = Index, ["_id"] = Id };
        if (IfSeqNo is { } seqNo && IfPrimaryTerm is { } term)
        {
            meta["if_seq_no"] = seqNo;
            meta["if_primary_term"] = term;
        }

        var action = ElasticClient.Serialize(new JsonObject { [ActionName] = meta });
        var source = ElasticClient.Serialize(Document);
        var line = new byte[action.Length + source.Length + 2];
        action.CopyTo(line, 0);
        line[action.Length] = (byte)'\n';
        source.CopyTo(line, action.Length + 1);
        line[^1] = (byte)'\n';
        return line;
    }
}

/// <summary>The outcome of <see cref="ElasticClient.BulkAsync"/>: how many operations, and which failed for good.</summary>
internal sealed record BulkResult(int Operations, IReadOnlyList<ElasticBulkFailure> Failures)
{
    public void ThrowIfFailed(string displayUrl, string what)
    {
        if (Failures.Count == 0)
        {
            return;
        }

        var shown = string.Join("; ", Failures.Take(5));
        var more = Failures.Count > 5 ? $" (and {Failures.Count - 5} more)" : string.Empty;
        throw new ElasticBulkException($"Elasticsearch at {displayUrl} rejected {Failures.Count} of {Operations} {what}: {shown}{more}", Failures);
    }
}
