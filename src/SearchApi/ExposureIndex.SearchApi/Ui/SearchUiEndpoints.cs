using ExposureIndex.SearchApi.Ui;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

// Lives beside MapSearchApi's namespace so a host maps both with the same using.
namespace ExposureIndex.SearchApi.Endpoints;

/// <summary>
/// The web UI: a single page at <c>/</c> and its versioned static files at <c>/ui/{version}/{file}</c>, embedded
/// in this assembly. Serving them needs no API key; every data call the page makes goes to the key-checked REST
/// API. Responses carry a strict Content-Security-Policy.
/// </summary>
public static class SearchUiEndpoints
{
    private static readonly string[] GetOrHead = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>Maps <c>/</c> (index.html) and <c>/ui/...</c> (assets; anything unknown there is 404).</summary>
    public static IEndpointRouteBuilder MapSearchUi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapMethods("/", GetOrHead, context => ServeAsync(context, UiAssetCatalog.Embedded.Index, UiHeaders.RevalidateCacheControl));
        app.MapMethods("/ui/{version}/{file}", GetOrHead, context =>
        {
            var catalog = UiAssetCatalog.Embedded;
            var version = context.Request.RouteValues["version"] as string;
            var file = context.Request.RouteValues["file"] as string;
            return version == catalog.Version && file is not null && catalog.TryGet(file, out var asset)
                ? ServeAsync(context, asset, UiHeaders.ImmutableCacheControl)
                : NotFoundAsync(context);
        });
        app.MapMethods("/ui/{**rest}", GetOrHead, NotFoundAsync);
        return app;
    }

    private static Task ServeAsync(HttpContext context, UiAsset asset, string cacheControl)
    {
        var response = context.Response;
        UiHeaders.Apply(response.Headers);
        var chosen = asset.Select(ContentCodingNegotiation.Parse(context.Request.Headers.AcceptEncoding));
        response.Headers.CacheControl = cacheControl;
        response.Headers.Vary = "Accept-Encoding";
        response.Headers.ETag = chosen.ETag;
        if (IfNoneMatchHits(context.Request.Headers.IfNoneMatch, chosen.ETag))
        {
            // RFC 9110 §15.4.5: a 304 repeats the validators and caching headers, without a body.
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = asset.ContentType;
        if (chosen.Encoding is not null)
        {
            response.Headers.ContentEncoding = chosen.Encoding;
        }

        response.ContentLength = chosen.Body.Length;
        return HttpMethods.IsHead(context.Request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(chosen.Body, context.RequestAborted).AsTask();
    }

    private static Task NotFoundAsync(HttpContext context)
    {
        var response = context.Response;
        UiHeaders.Apply(response.Headers);
        response.Headers.CacheControl = "no-store";
        response.StatusCode = StatusCodes.Status404NotFound;
        response.ContentType = "text/plain; charset=utf-8";
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.WriteAsync("Not found.\n", context.RequestAborted);
    }

    /// <summary>If-None-Match uses the weak comparison (RFC 9110 §13.1.2); "*" matches any current representation.</summary>
    internal static bool IfNoneMatchHits(StringValues header, string etag)
    {
        foreach (var value in header)
        {
            foreach (var part in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var tag = part.StartsWith("W/", StringComparison.Ordinal) ? part[2..] : part;
                if (tag == "*" || tag == etag)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
