using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;
using ExposureIndex.Query;
using ExposureIndex.SearchApi.Auth;
using ExposureIndex.SearchApi.Json;
using ExposureIndex.SearchApi.Problems;
using ExposureIndex.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.SearchApi.Endpoints;

/// <summary>
/// The REST API, shaped like Shodan's (same paths, parameters and JSON) so that existing Shodan clients work
/// when pointed at it: /shodan/host/{ip}, /shodan/host/search, /shodan/host/count, /shodan/host/search/filters,
/// /shodan/host/search/facets, /shodan/host/search/tokens, /shodan/ports, /api-info, /account/profile,
/// /tools/myip. Our additions live under /api/v1 (export) and /healthz.
/// </summary>
public static class ShodanEndpoints
{
    public static IServiceCollection AddSearchApi(this IServiceCollection services, SearchApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid SearchApi options: " + string.Join("; ", errors), nameof(options));
        }

        services.AddSingleton(options);
        services.AddSingleton<ApiKeyCheck>();
        return services;
    }

    public static IEndpointRouteBuilder MapSearchApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/shodan/host/search", Authorized(SearchAsync));
        app.MapGet("/shodan/host/count", Authorized(CountAsync));
        app.MapGet("/shodan/host/search/filters", Authorized(ctx => WriteJsonAsync(ctx, w => WriteNames(w, FilterCatalog.Default.Filters.Select(f => f.Name)))));
        app.MapGet("/shodan/host/search/facets", Authorized(ctx => WriteJsonAsync(ctx, w => WriteNames(w, FilterCatalog.Default.Filters.Where(f => f.Facetable).Select(f => f.Name)))));
        app.MapGet("/shodan/host/search/tokens", Authorized(TokensAsync));
        app.MapGet("/shodan/host/{ips}", Authorized(HostAsync));
        app.MapGet("/shodan/ports", Authorized(PortsAsync));
        app.MapGet("/api-info", Authorized(ApiInfoAsync));
        app.MapGet("/account/profile", Authorized(ProfileAsync));
        app.MapGet("/tools/myip", Authorized(MyIpAsync));
        app.MapGet("/api/v1/export", Authorized(ExportAsync));
        app.MapGet("/healthz", HealthAsync);
        return app;
    }

    private static RequestDelegate Authorized(Func<HttpContext, Task> handler) => async context =>
    {
        var services = context.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("ExposureIndex.SearchApi");
        try
        {
            if (!services.GetRequiredService<ApiKeyCheck>().IsAuthorized(context, out var error))
            {
                await ApiError.WriteAsync(context, StatusCodes.Status401Unauthorized, error!).ConfigureAwait(false);
                return;
            }

            await handler(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            await ApiError.TryHandleAsync(context, ex, logger).ConfigureAwait(false);
        }
    };

    private static async Task SearchAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<SearchApiOptions>();
        var query = ParseQuery(context);
        var facets = ParseFacets(context);
        var minify = Flag(context, "minify");
        int offset;
        int limit;
        if (context.Request.Query.ContainsKey("limit"))
        {
            limit = Math.Min(Int(context, "limit", options.PageSize, 1, 1000), options.PageSize * 10);
            offset = Int(context, "offset", 0, 0, options.MaxResultWindow);
        }
        else
        {
            var page = Int(context, "page", 1, 1, int.MaxValue);
            if ((long)page * options.PageSize > options.MaxResultWindow)
            {
                throw new BadRequestException($"page {page} is beyond the {options.MaxResultWindow:N0}-result window; narrow the query or use /api/v1/export");
            }

            limit = options.PageSize;
            offset = (page - 1) * options.PageSize;
        }

        var result = await RunAsync(context, new SearchRequest(query.Root, facets, offset, limit)).ConfigureAwait(false);
        await WriteJsonAsync(context, w => ShodanJson.WriteSearch(w, result, facets, minify, includeMatches: true)).ConfigureAwait(false);
    }

    private static async Task CountAsync(HttpContext context)
    {
        var query = ParseQuery(context);
        var facets = ParseFacets(context);
        var result = await RunAsync(context, SearchRequest.CountOnly(query.Root, facets)).ConfigureAwait(false);
        await WriteJsonAsync(context, w => ShodanJson.WriteSearch(w, result, facets, minify: true, includeMatches: false)).ConfigureAwait(false);
    }

    private static async Task<SearchResult> RunAsync(HttpContext context, SearchRequest request)
    {
        var options = context.RequestServices.GetRequiredService<SearchApiOptions>();
        var store = context.RequestServices.GetRequiredService<IExposureStore>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(options.QueryTimeout);
        return await store.SearchAsync(request, timeout.Token).ConfigureAwait(false);
    }

    private static Task TokensAsync(HttpContext context)
    {
        var text = context.Request.Query["query"].ToString();
        var ok = QueryParser.TryParse(text, out var parsed, out var error);
        return WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("attributes");
            w.WriteStartArray("ports");
            foreach (var port in parsed?.Ports ?? [])
            {
                w.WriteNumberValue(port);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("errors");
            if (!ok)
            {
                w.WriteStringValue(error!.Message);
            }

            w.WriteEndArray();
            w.WriteString("string", parsed?.FreeText ?? string.Empty);
            ShodanJson.WriteStrings(w, "filters", parsed?.FilterNames ?? []);
            w.WriteEndObject();
        });
    }

    private static async Task HostAsync(HttpContext context)
    {
        var store = context.RequestServices.GetRequiredService<IExposureStore>();
        var raw = (context.Request.RouteValues["ips"] as string) ?? string.Empty;
        var texts = raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (texts.Length is 0 or > 100)
        {
            throw new BadRequestException("give between 1 and 100 comma-separated IP addresses");
        }

        var addresses = new List<IPAddress>();
        foreach (var text in texts)
        {
            if (!ShodanJson.TryParseAddress(text, out var address))
            {
                throw new BadRequestException($"'{(text.Length > 64 ? text[..64] : text)}' is not an IP address");
            }

            addresses.Add(address);
        }

        var history = Flag(context, "history");
        var minify = Flag(context, "minify");
        var hosts = new List<HostView>();
        foreach (var address in addresses)
        {
            var host = await store.GetHostAsync(address, history, context.RequestAborted).ConfigureAwait(false);
            if (host is not null)
            {
                hosts.Add(host);
            }
        }

        if (addresses.Count == 1 && hosts.Count == 0)
        {
            // Shodan answers an unknown host with 404 and this message; its clients raise it as APIError.
            await ApiError.WriteAsync(context, StatusCodes.Status404NotFound, "No information available for that IP.").ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, w =>
        {
            if (addresses.Count == 1)
            {
                ShodanJson.WriteHost(w, hosts[0], history, minify);
                return;
            }

            w.WriteStartArray();
            foreach (var host in hosts)
            {
                ShodanJson.WriteHost(w, host, history, minify);
            }

            w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    private static async Task PortsAsync(HttpContext context)
    {
        var port = FilterCatalog.Default.Filters.First(f => f.Name == "port");
        var result = await RunAsync(context, SearchRequest.CountOnly(MatchAllNode.Instance, [new FacetRequest(port, 1000)])).ConfigureAwait(false);
        var ports = result.Facets.TryGetValue("port", out var buckets)
            ? buckets.Select(b => int.Parse(b.Value, CultureInfo.InvariantCulture)).Order().ToList()
            : [];
        await WriteJsonAsync(context, w =>
        {
            w.WriteStartArray();
            foreach (var p in ports)
            {
                w.WriteNumberValue(p);
            }

            w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    private static Task ApiInfoAsync(HttpContext context) => WriteJsonAsync(context, w =>
    {
        // A self-hosted index has no credits to ration: report generous, fixed allowances in Shodan's shape.
        w.WriteStartObject();
        w.WriteNumber("scan_credits", 0);
        w.WriteStartObject("usage_limits");
        w.WriteNumber("scan_credits", -1);
        w.WriteNumber("query_credits", -1);
        w.WriteNumber("monitored_ips", -1);
        w.WriteEndObject();
        w.WriteString("plan", "exposureindex");
        w.WriteBoolean("https", context.Request.IsHttps);
        w.WriteBoolean("unlocked", true);
        w.WriteNumber("query_credits", 1_000_000);
        w.WriteNumber("monitored_ips", 0);
        w.WriteNumber("unlocked_left", 1_000_000);
        w.WriteBoolean("telnet", false);
        w.WriteEndObject();
    });

    private static Task ProfileAsync(HttpContext context) => WriteJsonAsync(context, w =>
    {
        w.WriteStartObject();
        w.WriteBoolean("member", true);
        w.WriteNumber("credits", 0);
        w.WriteString("display_name", "ExposureIndex");
        w.WriteString("created", "2026-01-01T00:00:00.000000");
        w.WriteEndObject();
    });

    private static Task MyIpAsync(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is { IsIPv4MappedToIPv6: true })
        {
            remote = remote.MapToIPv4();
        }

        return WriteJsonAsync(context, w => w.WriteStringValue(remote?.ToString() ?? string.Empty));
    }

    private static async Task ExportAsync(HttpContext context)
    {
        var query = ParseQuery(context);
        var store = context.RequestServices.GetRequiredService<IExposureStore>();
        context.Response.ContentType = "application/x-ndjson; charset=utf-8";
        var body = context.Response.Body;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64 * 1024);
        await using var writer = new Utf8JsonWriter(buffer);
        var count = 0;
        await foreach (var stored in store.ExportAsync(query.Root, context.RequestAborted).ConfigureAwait(false))
        {
            ExposureIndex.Contracts.Json.BannerJson.Write(writer, stored.Record, ShodanJson.Metadata(stored));
            await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            writer.Reset();
            buffer.Write("\n"u8);
            if (++count % 256 == 0 || buffer.WrittenCount > 48 * 1024)
            {
                await body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
                buffer.ResetWrittenCount();
            }
        }

        await body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task HealthAsync(HttpContext context)
    {
        var store = context.RequestServices.GetRequiredService<IExposureStore>();
        try
        {
            var stats = await store.GetStatsAsync(context.RequestAborted).ConfigureAwait(false);
            await WriteJsonAsync(context, w =>
            {
                w.WriteStartObject();
                w.WriteString("status", "ok");
                w.WriteString("store", store.Kind);
                w.WriteNumber("services", stats.Services);
                w.WriteNumber("hosts", stats.Hosts);
                w.WriteNumber("observations", stats.Observations);
                w.WriteEndObject();
            }).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            await ApiError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ex.Message).ConfigureAwait(false);
        }
    }

    private static ParsedQuery ParseQuery(HttpContext context)
    {
        var values = context.Request.Query["query"];
        if (values.Count > 1)
        {
            throw new BadRequestException("give the query parameter once");
        }

        return QueryParser.Parse(values.ToString());
    }

    private static IReadOnlyList<FacetRequest> ParseFacets(HttpContext context)
    {
        var text = context.Request.Query["facets"].ToString();
        return string.IsNullOrWhiteSpace(text) ? [] : FacetParser.Parse(text);
    }

    private static bool Flag(HttpContext context, string name)
    {
        var value = context.Request.Query[name].ToString();
        return value.Length > 0 && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1" || value.Equals("yes", StringComparison.OrdinalIgnoreCase));
    }

    private static int Int(HttpContext context, string name, int fallback, int min, int max)
    {
        var text = context.Request.Query[name].ToString();
        if (text.Length == 0)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new BadRequestException($"{name} must be a whole number between {min} and {max}, not '{(text.Length > 20 ? text[..20] : text)}'");
        }

        return value;
    }

    private static void WriteNames(Utf8JsonWriter writer, IEnumerable<string> names)
    {
        writer.WriteStartArray();
        foreach (var name in names)
        {
            writer.WriteStringValue(name);
        }

        writer.WriteEndArray();
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(16 * 1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
