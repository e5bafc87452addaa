using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ExposureIndex.Storage.Elastic;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Storage.Tests.Elastic;

/// <summary>The REST client against a scripted HTTP server on a private loopback address: retries, partial bulk failures, auth, timeouts.</summary>
public sealed class ElasticClientTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static readonly ElasticStoreOptions Fast = new()
    {
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        RetryMaxDelay = TimeSpan.FromMilliseconds(5),
        MaxAttempts = 3,
        RequestTimeout = TimeSpan.FromSeconds(10),
    };

    [Fact]
    public async Task Bulk_ItemsAnswered429And400_RetriesOnlyThe429AndSurfacesThe400()
    {
        await using var server = new ScriptedHttpServer((request, n) => n switch
        {
            0 => ScriptedResponse.Ok("""
                {"errors":true,"items":[
                  {"index":{"_index":"i","_id":"a","status":201}},
                  {"index":{"_index":"i","_id":"b","status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}},
                  {"create":{"_index":"i","_id":"c","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [port]"}}}]}
                """),
            _ => ScriptedResponse.Ok("""{"errors":false,"items":[{"index":{"_index":"i","_id":"b","status":200}}]}"""),
        });
        using var client = new ElasticClient(server.Url, Fast);
        BulkOperation[] operations =
        [
            new(BulkAction.Index, "i", "a", new JsonObject { ["n"] = 1 }),
            new(BulkAction.Index, "i", "b", new JsonObject { ["n"] = 2 }),
            new(BulkAction.Create, "i", "c", new JsonObject { ["n"] = 3 }),
        ];

        var result = await client.BulkAsync(operations, "wait_for", TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        var failure = Assert.Single(result.Failures);
        Assert.Equal(new ElasticBulkFailure("create", "i", "c", 400, "mapper_parsing_exception", "failed to parse field [port]"), failure);
        var requests = server.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Equal(
            "{\"index\":{\"_index\":\"i\",\"_id\":\"b\"}}\n{\"n\":2}\n",
            requests[1].Body);
        Assert.All(requests, r => Assert.Equal("/_bulk", r.Path));
        Assert.All(requests, r => Assert.StartsWith("application/x-ndjson", r.Header("content-type"), StringComparison.Ordinal));
        Assert.Contains("refresh=wait_for", requests[0].Target, StringComparison.Ordinal);
        var error = Assert.Throws<ElasticBulkException>(() => result.ThrowIfFailed(client.DisplayUrl, "test writes"));
        Assert.Contains("i/c: 400 mapper_parsing_exception: failed to parse field [port]", error.Message, StringComparison.Ordinal);
        Assert.Contains(server.Url.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bulk_ItemRejectedOnEveryAttempt_IsReportedAfterTheLastAttempt()
    {
        await using var server = new ScriptedHttpServer((_, _) => ScriptedResponse.Ok(
            """{"errors":true,"items":[{"index":{"_index":"i","_id":"a","status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}}]}"""));
        using var client = new ElasticClient(server.Url, Fast);

        var result = await client.BulkAsync([new(BulkAction.Index, "i", "a", new JsonObject())], "false", TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        var failure = Assert.Single(result.Failures);
        Assert.Equal(429, failure.Status);
        Assert.Contains("after 3 attempts", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task Bulk_LargerThanBulkMaxBytes_IsSentInSeveralRequests()
    {
        await using var server = new ScriptedHttpServer((request, _) =>
        {
            var count = request.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length / 2;
            var items = string.Join(',', Enumerable.Range(0, count).Select(_ => """{"index":{"status":201}}"""));
            return ScriptedResponse.Ok($$"""{"errors":false,"items":[{{items}}]}""");
        });
        using var client = new ElasticClient(server.Url, Fast with { BulkMaxBytes = 64 * 1024 });
        var big = new string('x', 20_000);
        var operations = Enumerable.Range(0, 10).Select(i => new BulkOperation(BulkAction.Index, "i", i.ToString(System.Globalization.CultureInfo.InvariantCulture), new JsonObject { ["data"] = big })).ToList();

        var result = await client.BulkAsync(operations, "false", TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Empty(result.Failures);
        Assert.True(server.Requests.Count >= 4, $"expected the 200 kB bulk in 64 kB requests, got {server.Requests.Count} request(s)");
        Assert.All(server.Requests, r => Assert.True(Encoding.UTF8.GetByteCount(r.Body) <= 64 * 1024));
        Assert.Equal(10, server.Requests.Sum(r => r.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length / 2));
    }

    [Fact]
    public async Task Request_503ThenSuccess_IsRetried()
    {
        await using var server = new ScriptedHttpServer((_, n) => n == 0
            ? ScriptedResponse.Json(503, """{"error":{"type":"cluster_block_exception","reason":"no master"},"status":503}""")
            : ScriptedResponse.Ok("""{"count":42}"""));
        using var client = new ElasticClient(server.Url, Fast);

        var count = await client.CountAsync("exposure-changes", null, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal(42, count);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(1, client.Retries);
    }

    [Fact]
    public async Task Request_429OnEveryAttempt_ThrowsWithTheStatusAfterMaxAttempts()
    {
        await using var server = new ScriptedHttpServer((_, _) => ScriptedResponse.Json(429, """{"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"},"status":429}"""));
        using var client = new ElasticClient(server.Url, Fast);

        var error = await Assert.ThrowsAsync<ElasticException>(() => client.SearchAsync("exposure-services", new JsonObject(), TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken));

        Assert.Equal(429, error.StatusCode);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task Request_ErrorAnswer_ThrowsNamingUrlRequestTypeAndReason()
    {
        await using var server = new ScriptedHttpServer((_, _) => ScriptedResponse.Json(400, """{"error":{"root_cause":[],"type":"parsing_exception","reason":"unknown query [nope]"},"status":400}"""));
        using var client = new ElasticClient(server.Url, Fast);

        var error = await Assert.ThrowsAsync<ElasticException>(() => client.SearchAsync("exposure-services", new JsonObject(), TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("parsing_exception", error.ErrorType);
        Assert.Equal($"Elasticsearch at {server.Url} answered 400 (parsing_exception: unknown query [nope]) to POST /exposure-services/_search", error.Message);
        Assert.Single(server.Requests); // a 400 is not retried
    }

    [Fact]
    public async Task Request_CredentialsInUrl_SentAsBasicAuthAndKeptOutOfMessages()
    {
        await using var server = new ScriptedHttpServer((_, _) => ScriptedResponse.Json(401, """{"error":{"type":"security_exception","reason":"unable to authenticate"},"status":401}"""));
        var url = new UriBuilder(server.Url) { UserName = "elastic", Password = "s3cr%t:x" }.Uri;
        using var client = new ElasticClient(url, Fast);

        var error = await Assert.ThrowsAsync<ElasticException>(() => client.CountAsync("x", null, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken));

        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("elastic:s3cr%t:x"));
        Assert.Equal(expected, Assert.Single(server.Requests).Header("authorization"));
        Assert.DoesNotContain("s3cr", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr", client.DisplayUrl, StringComparison.Ordinal);
        Assert.Equal(server.Url.ToString(), client.DisplayUrl);
    }

    [Fact]
    public async Task Request_ApiKeyOption_SentAsApiKeyAuthorization()
    {
        await using var server = new ScriptedHttpServer((_, _) => ScriptedResponse.Ok("""{"count":1}"""));
        using var client = new ElasticClient(server.Url, Fast with { ApiKey = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==" });

        await client.CountAsync("x", null, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal("ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==", Assert.Single(server.Requests).Header("authorization"));
    }

    [Fact]
    public async Task Request_NoAnswerWithinTimeout_RetriesThenThrows()
    {
        // The first request warms the connection up, so no attempt can time out before its bytes reach the server.
        await using var server = new ScriptedHttpServer((_, n) => n == 0 ? ScriptedResponse.Ok("""{"count":1}""") : ScriptedResponse.Hanging);
        using var client = new ElasticClient(server.Url, Fast with { RequestTimeout = TimeSpan.FromSeconds(1), MaxAttempts = 2 });
        Assert.Equal(1, await client.CountAsync("x", null, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken));

        var error = await Assert.ThrowsAsync<ElasticException>(() => client.CountAsync("x", null, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken));

        Assert.Contains("no answer within 1 s", error.Message, StringComparison.Ordinal);
        Assert.Contains(server.Url.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Null(error.StatusCode);
        Assert.True(await Poll.UntilAsync(() => server.Requests.Count == 3, Bound, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Request_ConnectionResetOnce_SucceedsOnRetry()
    {
        await using var server = new ScriptedHttpServer((_, n) => n == 0 ? ScriptedResponse.Dropped : ScriptedResponse.Ok("""{"count":7}"""));
        using var client = new ElasticClient(server.Url, Fast);

        Assert.Equal(7, await client.CountAsync("x", null, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken));
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Request_CallerCancels_ThrowsOperationCanceledWithoutRetrying()
    {
        await using var server = new ScriptedHttpServer((_, _) => ScriptedResponse.Hanging);
        using var client = new ElasticClient(server.Url, Fast);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var call = client.CountAsync("x", null, cancel.Token);
        Assert.True(await Poll.UntilAsync(() => server.Requests.Count == 1, Bound, TestContext.Current.CancellationToken));

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Bound, TestContext.Current.CancellationToken));
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Open_NothingListening_FailsNamingTheUrl()
    {
        var address = Loopback.NextAddress();
        var url = new Uri($"http://{address}:{Loopback.FreeTcpPort(address)}/");

        var error = await Assert.ThrowsAsync<ElasticException>(() => ElasticStore.OpenAsync(url, Fast, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken));

        Assert.StartsWith($"Elasticsearch at {url} is unreachable: GET / failed 3 times", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_InvalidOptions_ReportsEveryProblem()
    {
        var options = new ElasticStoreOptions { IndexPrefix = "Bad Prefix", MaxAttempts = 0, ApiKey = "k", Username = "u", PageSize = 20_000 };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => ElasticStore.OpenAsync(new Uri("http://127.0.0.1:9/"), options, TestContext.Current.CancellationToken));

        Assert.Contains("IndexPrefix 'Bad Prefix'", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxAttempts", error.Message, StringComparison.Ordinal);
        Assert.Contains("exclusive", error.Message, StringComparison.Ordinal);
        Assert.Contains("PageSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_ScriptedCluster_InstallsTemplatesThenCreatesIndices()
    {
        await using var server = new ScriptedHttpServer((request, _) => (request.Method, request.Path) switch
        {
            ("GET", "/") => ScriptedResponse.Ok("""{"cluster_name":"scripted","version":{"number":"8.13.4"},"tagline":"You Know, for Search"}"""),
            ("PUT", "/exposure-services") => ScriptedResponse.Json(400, """{"error":{"type":"resource_already_exists_exception","reason":"exists"},"status":400}"""),
            ("GET", "/exposure-services/_mapping") => ScriptedResponse.Ok("""{"exposure-services":{"mappings":{"_meta":{"managed_by":"exposureindex","schema_version":1}}}}"""),
            ("POST", "/exposure-services/_search") => ScriptedResponse.Ok("""{"hits":{"hits":[{"_id":"k","sort":[41]}]}}"""),
            ("POST", "/exposure-changes/_search") => ScriptedResponse.Ok("""{"hits":{"hits":[]}}"""),
            _ => ScriptedResponse.Ok("""{"acknowledged":true}"""),
        });

        await using var store = await ElasticStore.OpenAsync(server.Url, Fast, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal(
            [
                "GET /", "PUT /_index_template/exposure-services", "PUT /_index_template/exposure-observations", "PUT /_index_template/exposure-changes",
                "PUT /exposure-services", "GET /exposure-services/_mapping", "PUT /exposure-changes",
                "POST /exposure-services/_search", "POST /exposure-services/_search", "POST /exposure-changes/_search",
            ],
            server.Requests.Select(r => r.Method + " " + r.Path));
        var template = JsonNode.Parse(server.Requests[1].Body)!;
        Assert.Equal("request", template["template"]!["settings"]!["index"]!["translog"]!["durability"]!.GetValue<string>());
        Assert.Equal("scripted", store.ClusterName);
    }

    [Fact]
    public void Backoff_DoublesPerAttemptUpToTheCap()
    {
        using var client = new ElasticClient(new Uri("http://127.0.0.1:9/"), new ElasticStoreOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(100), RetryMaxDelay = TimeSpan.FromMilliseconds(500) });
        Assert.Equal(
            [100, 200, 400, 500, 500],
            Enumerable.Range(1, 5).Select(a => client.Backoff(a).TotalMilliseconds));
    }

    [Fact]
    public void Client_NonHttpUrl_IsRejected()
        => Assert.Throws<ArgumentException>(() => new ElasticClient(new Uri("ftp://127.0.0.1/"), ElasticStoreOptions.Default));

    [Fact]
    public void StatusCodes_RetryableSet_IsBusyOrFailingOver()
    {
        Assert.All([429, 502, 503, 504], s => Assert.True(ElasticClient.IsRetryable(s)));
        Assert.All([200, 400, 401, 404, 409, 500], s => Assert.False(ElasticClient.IsRetryable(s)));
        Assert.Equal(HttpStatusCode.TooManyRequests, (HttpStatusCode)429);
    }
}
