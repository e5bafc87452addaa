using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ExposureIndex.Crawler.Engine;

/// <summary>The minimal HTTP/1.1 probe and the framing check that tells when its response is complete. Pure.</summary>
internal static class HttpProbe
{
    /// <summary>
    /// <c>GET / HTTP/1.1</c> with the Host header RFC 9112 §3.2 requires (the address; the port unless it is
    /// 80, RFC 9110 §7.2), a User-Agent naming the project and a contact URL (so operators can reach us), and
    /// <c>Connection: close</c> so the server ends the exchange and no idle wait is needed.
    /// </summary>
    public static byte[] BuildRequest(IPEndPoint remote, string userAgent, Uri contactUrl)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(contactUrl);
        var host = remote.Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{remote.Address}]" : remote.Address.ToString();
        if (remote.Port != 80)
        {
            host = string.Create(CultureInfo.InvariantCulture, $"{host}:{remote.Port}");
        }

        var text = $"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {userAgent} (+{contactUrl.AbsoluteUri})\r\nAccept: */*\r\nConnection: close\r\n\r\n";
        return Encoding.ASCII.GetBytes(text);
    }

    public static bool LooksLikeHttp(ReadOnlySpan<byte> data) => data.StartsWith("HTTP/"u8);

    /// <summary>
    /// True when <paramref name="data"/> holds a whole HTTP/1.x response by its own framing (RFC 9112 §6.3):
    /// a 204/304 or 1xx-free header block with Content-Length satisfied, or a chunked body with its last chunk
    /// and trailer section. A close-delimited body is never complete here; the peer's close ends it.
    /// </summary>
    public static bool IsComplete(ReadOnlySpan<byte> data)
    {
        if (!LooksLikeHttp(data))
        {
            return false;
        }

        var headerEnd = data.IndexOf("\r\n\r\n"u8);
        if (headerEnd < 0)
        {
            return false;
        }

        var head = data[..headerEnd];
        var body = data[(headerEnd + 4)..];
        var firstLineEnd = head.IndexOf("\r\n"u8);
        var statusLine = firstLineEnd < 0 ? head : head[..firstLineEnd];
        var status = ParseStatus(statusLine);
        if (status is >= 100 and < 200)
        {
            // An interim response; the final one follows.
            return false;
        }

        if (status is 204 or 304)
        {
            return true;
        }

        long? contentLength = null;
        var chunked = false;
        var headers = firstLineEnd < 0 ? [] : head[(firstLineEnd + 2)..];
        // Bounded: each pass consumes one header line.
        while (!headers.IsEmpty)
        {
            var end = headers.IndexOf("\r\n"u8);
            var line = end < 0 ? headers : headers[..end];
            headers = end < 0 ? [] : headers[(end + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon];
            var value = Trim(line[(colon + 1)..]);
            if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                chunked |= EndsWithIgnoreCase(value, "chunked"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8) && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                contentLength = length;
            }
        }

        if (chunked)
        {
            return IsChunkedBodyComplete(body);
        }

        return contentLength is { } expected && body.Length >= expected;
    }

    private static int ParseStatus(ReadOnlySpan<byte> statusLine)
    {
        var space = statusLine.IndexOf((byte)' ');
        if (space < 0 || statusLine.Length < space + 4)
        {
            return -1;
        }

        return int.TryParse(statusLine.Slice(space + 1, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status) ? status : -1;
    }

    /// <summary>RFC 9112 §7.1: chunks of hex size, a zero-size last chunk, optional trailers, an empty line.</summary>
    private static bool IsChunkedBodyComplete(ReadOnlySpan<byte> body)
    {
        // Bounded: each pass consumes one chunk of a finite buffer.
        while (true)
        {
            var lineEnd = body.IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                return false;
            }

            var sizeText = body[..lineEnd];
            var extension = sizeText.IndexOf((byte)';');
            if (extension >= 0)
            {
                sizeText = sizeText[..extension];
            }

            if (!long.TryParse(Trim(sizeText), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size) || size < 0)
            {
                return false;
            }

            body = body[(lineEnd + 2)..];
            if (size == 0)
            {
                // Trailer section ends with an empty line.
                return body.StartsWith("\r\n"u8) || body.IndexOf("\r\n\r\n"u8) >= 0;
            }

            if (body.Length < size + 2)
            {
                return false;
            }

            body = body[(int)(size + 2)..];
        }
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value) => value.Trim(" \t"u8);

    private static bool EndsWithIgnoreCase(ReadOnlySpan<byte> value, ReadOnlySpan<byte> suffix)
        => value.Length >= suffix.Length && Ascii.EqualsIgnoreCase(value[^suffix.Length..], suffix);
}
