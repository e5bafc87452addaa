using System.Globalization;
using System.Net.Sockets;
using System.Text;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Http;

/// <summary>
/// HTTP and HTTPS (<see cref="GrabContext.Tls"/>): GET / with our Host and User-Agent, redirects followed on the
/// same scheme, host and port only (each hop recorded), then the favicon (the page's icon link, else /favicon.ico,
/// same origin only) and /robots.txt. One connection per request (Connection: close), each capped; the page body
/// is kept up to 64 KiB. Fills Shodan's <c>http</c> section; <c>data</c> is the status line and headers.
/// </summary>
internal sealed class HttpGrabber : IGrabber
{
    public const int MaxRedirects = 5;

    /// <summary>Favicons larger than this are not hashed: Shodan hashes whole files, a cut one would mislead.</summary>
    public const int MaxFaviconBytes = 128 * 1024;

    public const int MaxRobotsBytes = 64 * 1024;

    public string Name => "http";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["http", "https", "http-alt", "http-proxy", "https-alt", "ssl/http", "http-mgmt", "ssl/https"];

    public IReadOnlyList<int> Ports { get; } = [80, 443, 8000, 8008, 8080, 8081, 8443, 8888];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var section = new HttpSection { Host = context.Target.HostHeader };
        var record = new ServiceRecord { Module = context.Tls ? "https" : "http", Http = section };
        return GrabGuard.RunAsync(context, "the HTTP grab", record, async deadline =>
        {
            var origin = Origin(context);
            var current = new Uri(origin, "/");
            Fetch fetch;
            for (var hop = 0; ; hop++)
            {
                fetch = await FetchAsync(context, current, HttpParser.DefaultMaxBody, deadline, cancellationToken).ConfigureAwait(false);
                if (fetch.Response is not { } response)
                {
                    return GrabResult.Failed(fetch.Outcome, fetch.Error!, record);
                }

                if (fetch.Outcome != GrabOutcome.Success || !IsRedirect(response.Status) || response.Header("Location") is not { } location)
                {
                    break;
                }

                section.Redirects.Add(new HttpRedirect { Host = context.Target.HostHeader, Location = location, Status = response.Status });
                if (hop >= MaxRedirects || !TrySameOrigin(origin, current, location, out var next) || next == current)
                {
                    break;
                }

                current = next;
            }

            var page = fetch.Response!;
            var html = HtmlInspector.Decode(page.Body);
            Describe(record, section, page, html, current);
            if (fetch.Outcome != GrabOutcome.Success)
            {
                return GrabResult.Failed(fetch.Outcome, fetch.Error!, record);
            }

            await FetchFaviconAsync(context, section, origin, current, html, deadline, cancellationToken).ConfigureAwait(false);
            await FetchRobotsAsync(context, section, origin, deadline, cancellationToken).ConfigureAwait(false);
            return GrabResult.Success(record);
        }, cancellationToken);
    }

    /// <summary>Fills the record from the final page: section fields, data, product.</summary>
    internal static void Describe(ServiceRecord record, HttpSection section, HttpResult page, string html, Uri location)
    {
        record.Data = ByteString.CopyFrom(page.HeaderBlock);
        section.Status = page.Status;
        section.Location = location.PathAndQuery;
        foreach (var (name, value) in page.Headers)
        {
            section.Headers[name] = section.Headers.TryGetValue(name, out var previous) ? previous + ", " + value : value;
        }

        section.Server = page.Header("Server") ?? string.Empty;
        section.Html = ByteString.CopyFrom(page.Body);
        section.HtmlHash = MurmurHash3.Hash32(page.Body);
        section.Title = HtmlInspector.TryTitle(html) ?? string.Empty;
        section.Components.Clear();
        section.Components.AddRange(HtmlInspector.Components(page, html));
        if (HttpServerProducts.TryParse(page.Header("Server"), out var product))
        {
            product.ApplyTo(record);
        }
    }

    /// <summary>Builds the request: origin-form target, Host, our User-Agent, no keep-alive (RFC 9112 §3, §9.6).</summary>
    internal static byte[] BuildRequest(string pathAndQuery, string host, string userAgent)
        => Encoding.ASCII.GetBytes($"GET {pathAndQuery} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {userAgent}\r\nAccept: */*\r\nConnection: close\r\n\r\n");

    /// <summary>Resolves <paramref name="location"/> against <paramref name="current"/>; true when it stays on the origin's scheme, host and port.</summary>
    internal static bool TrySameOrigin(Uri origin, Uri current, string location, out Uri next)
    {
        next = current;
        if (!Uri.TryCreate(current, location.Trim(), out var resolved) || !resolved.IsAbsoluteUri)
        {
            return false;
        }

        if (!string.Equals(resolved.Scheme, origin.Scheme, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(resolved.IdnHost, origin.IdnHost, StringComparison.OrdinalIgnoreCase)
            || resolved.Port != origin.Port)
        {
            return false;
        }

        next = new Uri(resolved.GetLeftPart(UriPartial.Query));
        return true;
    }

    internal static Uri Origin(GrabContext context)
    {
        var builder = new UriBuilder(context.Tls ? "https" : "http", context.Target.ServerName ?? context.Target.Address.ToString(), context.Target.Port, "/");
        return builder.Uri;
    }

    private static bool IsRedirect(int status) => status is 301 or 302 or 303 or 307 or 308;

    private static async ValueTask FetchFaviconAsync(GrabContext context, HttpSection section, Uri origin, Uri page, string html, CancellationToken deadline, CancellationToken cancellationToken)
    {
        var candidates = new List<Uri>(2);
        if (HtmlInspector.TryIconHref(html) is { } href && !href.StartsWith("data:", StringComparison.OrdinalIgnoreCase) && TrySameOrigin(origin, page, href, out var linked))
        {
            candidates.Add(linked);
        }

        var fallback = new Uri(origin, "/favicon.ico");
        if (!candidates.Contains(fallback))
        {
            candidates.Add(fallback);
        }

        foreach (var candidate in candidates)
        {
            var fetch = await TrySecondaryAsync(context, candidate, MaxFaviconBytes, deadline, cancellationToken).ConfigureAwait(false);
            if (fetch is { Status: 200, BodyTruncated: false, BodyIncomplete: false, Body.Length: > 0 } && !IsHtml(fetch))
            {
                section.Favicon = new HttpFavicon
                {
                    Hash = ShodanFavicon.Hash(fetch.Body),
                    Location = candidate.AbsoluteUri,
                    Data = ByteString.CopyFrom(fetch.Body),
                };
                return;
            }
        }
    }

    private static async ValueTask FetchRobotsAsync(GrabContext context, HttpSection section, Uri origin, CancellationToken deadline, CancellationToken cancellationToken)
    {
        var fetch = await TrySecondaryAsync(context, new Uri(origin, "/robots.txt"), MaxRobotsBytes, deadline, cancellationToken).ConfigureAwait(false);
        if (fetch is { Status: 200, Body.Length: > 0 } && !IsHtml(fetch))
        {
            section.RobotsPresent = true;
            section.RobotsHash = MurmurHash3.Hash32(fetch.Body);
        }
    }

    // A catch-all route answering every path with its HTML page is not a favicon or a robots.txt.
    private static bool IsHtml(HttpResult response)
        => response.Header("Content-Type") is { } type && type.StartsWith("text/html", StringComparison.OrdinalIgnoreCase);

    /// <summary>A best-effort extra request: any trouble except cancellation and the total deadline just means "none".</summary>
    private static async ValueTask<HttpResult?> TrySecondaryAsync(GrabContext context, Uri uri, int maxBody, CancellationToken deadline, CancellationToken cancellationToken)
    {
        if (deadline.IsCancellationRequested)
        {
            return null;
        }

        try
        {
            var fetch = await FetchAsync(context, uri, maxBody, deadline, cancellationToken).ConfigureAwait(false);
            return fetch.Outcome == GrabOutcome.Success ? fetch.Response : null;
        }
        catch (Exception ex) when (ex is GrabLimitException or IOException or SocketException or ObjectDisposedException)
        {
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>One request on a fresh connection. A response cut short by a timeout is kept, with that outcome.</summary>
    private static async ValueTask<Fetch> FetchAsync(GrabContext context, Uri uri, int maxBody, CancellationToken deadline, CancellationToken cancellationToken)
    {
        var connection = await context.ConnectAsync(deadline).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.WriteAsync(BuildRequest(uri.PathAndQuery, context.Target.HostHeader, context.Limits.UserAgent), cancellationToken).ConfigureAwait(false);
            var parser = new HttpParser(maxBody);
            ParsedRead read;
            try
            {
                read = await connection.ReadParsedAsync(parser, int.MaxValue, cancellationToken).ConfigureAwait(false);
            }
            catch (GrabLimitException ex)
            {
                // Slow drip or stall mid-response: keep what arrived when it already makes a response.
                return parser.End() == ParseStatus.Complete
                    ? new Fetch(parser.Result, ex.Outcome, ex.Message + " (response kept as received)")
                    : new Fetch(null, ex.Outcome, ex.Message);
            }

            if (read.Status == ParseStatus.Complete)
            {
                return new Fetch(parser.Result, GrabOutcome.Success, null);
            }

            var error = parser.Error ?? "the HTTP response could not be parsed";
            if (connection.Truncated)
            {
                error += string.Create(CultureInfo.InvariantCulture, $" (stopped at the {context.Limits.MaxBytesPerConnection}-byte cap)");
            }

            return read.Bytes.Length == 0
                ? new Fetch(null, GrabOutcome.Closed, $"{uri.PathAndQuery}: the server closed the connection without answering")
                : new Fetch(null, GrabOutcome.ProtocolError, $"{uri.PathAndQuery}: {error}");
        }
    }

    private readonly record struct Fetch(HttpResult? Response, GrabOutcome Outcome, string? Error);
}
