using System.Net.Sockets;
using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Http;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Http;

public sealed class HttpGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly byte[] Icon = Enumerable.Range(0, 700).Select(i => (byte)(i * 7)).ToArray();

    /// <summary>A small web site: "/" redirects to /home, which names its icon; robots.txt exists.</summary>
    private static TestServer Site(List<string>? requests = null) => TestServer.OnStream(async (stream, ct) =>
    {
        var request = Encoding.ASCII.GetString(await stream.ReadUntilAsync("\r\n\r\n"u8.ToArray(), ct));
        lock (requests ?? [])
        {
            requests?.Add(request);
        }

        var path = request.Split(' ')[1];
        var response = path switch
        {
            "/" => Response("302 Found", "text/html", "moved", "Location: /home\r\n"),
            "/home" => Response("200 OK", "text/html", "<html><head><title>Home &amp; Garden</title><link rel=\"icon\" href=\"/static/i.png\"></head></html>", "Server: Caddy\r\nX-Powered-By: Express\r\n"),
            "/static/i.png" => [.. Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {Icon.Length}\r\n\r\n"), .. Icon],
            "/robots.txt" => Response("200 OK", "text/plain", "User-agent: *\nDisallow:\n"),
            _ => Response("404 Not Found", "text/html", "<h1>no</h1>"),
        };
        await stream.WriteAsync(response, ct);
    });

    private static byte[] Response(string status, string type, string body, string extraHeaders = "")
        => Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\n{extraHeaders}Content-Type: {type}\r\nContent-Length: {Encoding.ASCII.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}");

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_SameOriginRedirect_FollowedFaviconFromLinkAndRobots()
    {
        var requests = new List<string>();
        await using var server = Site(requests);

        var result = await new HttpGrabber().GrabAsync(server.Context(GrabContexts.Roomy), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        var http = result.Fragment.Http;
        Assert.Equal(200, http.Status);
        Assert.Equal("/home", http.Location);
        var redirect = Assert.Single(http.Redirects);
        Assert.Equal(302, redirect.Status);
        Assert.Equal("/home", redirect.Location);
        Assert.Equal("Home & Garden", http.Title);
        Assert.Equal(ShodanFavicon.Hash(Icon), http.Favicon.Hash);
        Assert.Equal(Icon, http.Favicon.Data.ToByteArray());
        Assert.EndsWith("/static/i.png", http.Favicon.Location, StringComparison.Ordinal);
        Assert.True(http.RobotsPresent);
        Assert.Equal(ExposureIndex.Contracts.MurmurHash3.Hash32("User-agent: *\nDisallow:\n"u8), http.RobotsHash);
        Assert.Equal(["Express"], http.Components);
        Assert.Equal("Caddy httpd", result.Fragment.Product);
        Assert.Equal("cpe:2.3:a:caddyserver:caddy:*:*:*:*:*:*:*:*", Assert.Single(result.Fragment.Cpe23));
        Assert.StartsWith("HTTP/1.1 200 OK\r\nServer: Caddy\r\n", Encoding.ASCII.GetString(result.Fragment.Data.Span), StringComparison.Ordinal);
        Assert.Equal(ExposureIndex.Contracts.MurmurHash3.Hash32(http.Html.Span), http.HtmlHash);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_Request_HostUserAgentAndClose()
    {
        var requests = new List<string>();
        await using var server = Site(requests);
        var context = server.Context(GrabContexts.Roomy);

        await new HttpGrabber().GrabAsync(context, Ct);

        var first = requests[0];
        Assert.StartsWith("GET / HTTP/1.1\r\n", first, StringComparison.Ordinal);
        Assert.Contains($"\r\nHost: {server.EndPoint.Address}:{server.EndPoint.Port}\r\n", first, StringComparison.Ordinal);
        Assert.Contains($"\r\nUser-Agent: {context.Limits.UserAgent}\r\n", first, StringComparison.Ordinal);
        Assert.Contains("\r\nConnection: close\r\n", first, StringComparison.Ordinal);
        Assert.Equal(["/", "/home", "/static/i.png", "/robots.txt"], requests.Select(r => r.Split(' ')[1]));
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_RedirectToOtherHost_RecordedNotFollowed()
    {
        var requests = new List<string>();
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            var request = Encoding.ASCII.GetString(await stream.ReadUntilAsync("\r\n\r\n"u8.ToArray(), ct));
            lock (requests)
            {
                requests.Add(request.Split(' ')[1]);
            }

            await stream.WriteAsync(request.StartsWith("GET / ", StringComparison.Ordinal)
                ? Response("301 Moved Permanently", "text/html", "away", "Location: http://elsewhere.example/\r\n")
                : Response("404 Not Found", "text/html", "no"), ct);
        });

        var result = await new HttpGrabber().GrabAsync(server.Context(GrabContexts.Roomy), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal(301, result.Fragment.Http.Status);
        Assert.Equal("http://elsewhere.example/", Assert.Single(result.Fragment.Http.Redirects).Location);
        Assert.Equal(["/", "/favicon.ico", "/robots.txt"], requests);
        Assert.Null(result.Fragment.Http.Favicon);
        Assert.False(result.Fragment.Http.RobotsPresent);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_RedirectLoop_StopsAfterMaxRedirects()
    {
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            var request = Encoding.ASCII.GetString(await stream.ReadUntilAsync("\r\n\r\n"u8.ToArray(), ct));
            var next = request.StartsWith("GET /a ", StringComparison.Ordinal) ? "/b" : "/a";
            await stream.WriteAsync(Response("307 Temporary Redirect", "text/plain", "loop", $"Location: {next}\r\n"), ct);
        });

        var result = await new HttpGrabber().GrabAsync(server.Context(GrabContexts.Roomy), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal(HttpGrabber.MaxRedirects + 1, result.Fragment.Http.Redirects.Count);
        Assert.Equal(307, result.Fragment.Http.Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        await using var server = TestServer.OnStream(async (stream, ct) => await Task.Delay(Timeout.Infinite, ct));

        var result = await new HttpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Contains("read timeout", result.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_EndlessHeaders_ProtocolErrorNamingHeaderBlock()
    {
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            await stream.WriteAsync("HTTP/1.1 200 OK\r\n"u8.ToArray(), ct);
            var line = Encoding.ASCII.GetBytes("X-Endless: " + new string('a', 1000) + "\r\n");
            for (var i = 0; i < 100_000; i++)
            {
                await stream.WriteAsync(line, ct);
            }
        });

        var result = await new HttpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
        Assert.Contains("header block exceeds", result.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_EndlessBody_SuccessWithBodyAtCap()
    {
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<title>big</title>"u8.ToArray(), ct);
            var chunk = new byte[8192];
            Array.Fill(chunk, (byte)'x');
            for (var i = 0; i < 100_000; i++)
            {
                await stream.WriteAsync(chunk, ct);
            }
        });

        var result = await new HttpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal(HttpParser.DefaultMaxBody, result.Fragment.Http.Html.Length);
        Assert.Equal("big", result.Fragment.Http.Title);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_SlowDrip_EndsAtDeadlineKeepingPartialResponse()
    {
        var limits = GrabContexts.Short with { ReadTimeout = TimeSpan.FromSeconds(2), TotalDeadline = TimeSpan.FromSeconds(3) };
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nServer: nginx/1.2.3\r\n"u8.ToArray(), ct);
            for (var i = 0; i < 10_000; i++)
            {
                await stream.WriteAsync("X"u8.ToArray(), ct);
                await Task.Delay(100, ct);
            }
        });

        var result = await new HttpGrabber().GrabAsync(server.Context(limits), Ct);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Contains("deadline", result.Error, StringComparison.Ordinal);
        Assert.Equal("nginx", result.Fragment.Product);
        Assert.Equal("1.2.3", result.Fragment.Version);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_Garbage_ProtocolError()
    {
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            await stream.ReadUntilAsync("\r\n\r\n"u8.ToArray(), ct);
            await stream.WriteAsync(ProtocolFixtures.Read("Http", "garbage-random.bin"), ct);
        });

        var result = await new HttpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
        Assert.Contains("does not start with \"HTTP/\"", result.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_ClosesWithoutAnswer_Closed()
    {
        await using var server = TestServer.OnStream((stream, _) =>
        {
            stream.Socket.Shutdown(SocketShutdown.Both);
            return Task.CompletedTask;
        });

        var result = await new HttpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Closed, result.Outcome);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_NothingListening_Refused()
    {
        int port;
        System.Net.IPAddress address;
        await using (var server = TestServer.OnStream((_, _) => Task.CompletedTask))
        {
            port = server.EndPoint.Port;
            address = server.EndPoint.Address;
        }

        var context = new GrabContext
        {
            Target = new GrabTarget(address, port, Transport.Tcp),
            Limits = GrabContexts.Short,
            Network = SocketGrabNetwork.Instance,
        };

        var result = await new HttpGrabber().GrabAsync(context, Ct);

        Assert.Equal(GrabOutcome.Refused, result.Outcome);
    }

    [Fact]
    public void TrySameOrigin_Locations_OnlySameSchemeHostPort()
    {
        var origin = new Uri("http://127.0.0.1:8080/");
        var current = new Uri("http://127.0.0.1:8080/dir/page");

        Assert.True(HttpGrabber.TrySameOrigin(origin, current, "next?x=1#frag", out var relative));
        Assert.Equal("/dir/next?x=1", relative.PathAndQuery);
        Assert.True(HttpGrabber.TrySameOrigin(origin, current, "http://127.0.0.1:8080/abs", out _));
        Assert.False(HttpGrabber.TrySameOrigin(origin, current, "https://127.0.0.1:8080/abs", out _));
        Assert.False(HttpGrabber.TrySameOrigin(origin, current, "http://127.0.0.1/abs", out _));
        Assert.False(HttpGrabber.TrySameOrigin(origin, current, "//other.example:8080/x", out _));
        Assert.False(HttpGrabber.TrySameOrigin(origin, current, "http://[::1", out _));
    }
}
