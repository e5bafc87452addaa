using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using ExposureIndex.Contracts;

namespace ExposureIndex.Grabbers.Http;

/// <summary>
/// What a crawler reads out of an HTML page: the title, the icon link and trivially detectable components.
/// Pure and bounded: regexes carry timeouts and inputs are capped bodies.
/// </summary>
internal static partial class HtmlInspector
{
    /// <summary>Titles longer than this are cut: a title is a label, not a document.</summary>
    public const int MaxTitleChars = 512;

    private const int MaxLinkTags = 256;

    /// <summary>Decodes a body for inspection: valid UTF-8 as UTF-8, else Latin-1 (every byte survives).</summary>
    public static string Decode(ReadOnlySpan<byte> body) => BannerText.Decode(body);

    /// <summary>
    /// The text of the first &lt;title&gt; element, entity-decoded, whitespace collapsed, capped. A title left open at
    /// the end of the (capped) body still counts. Null when there is none.
    /// </summary>
    public static string? TryTitle(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        var open = FindTag(html, "<title", 0);
        if (open < 0)
        {
            return null;
        }

        var start = html.IndexOf('>', open);
        if (start < 0)
        {
            return null;
        }

        if (html[start - 1] == '/')
        {
            // <title/>: an empty element.
            return string.Empty;
        }

        start++;
        var end = html.IndexOf("</title", start, StringComparison.OrdinalIgnoreCase);
        var raw = end < 0 ? html[start..] : html[start..end];
        if (raw.Length > MaxTitleChars * 8)
        {
            raw = raw[..(MaxTitleChars * 8)];
        }

        var text = CollapseWhitespace(WebUtility.HtmlDecode(raw));
        return text.Length > MaxTitleChars ? text[..MaxTitleChars] : text;
    }

    /// <summary>
    /// The href of the first &lt;link&gt; whose rel has the token "icon" (HTML Living Standard §4.6.7.8: "icon",
    /// also within "shortcut icon"). Null when the page names none.
    /// </summary>
    public static string? TryIconHref(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        var count = 0;
        try
        {
            foreach (Match tag in LinkTag().Matches(html))
            {
                if (++count > MaxLinkTags)
                {
                    break;
                }

                string? rel = null;
                string? href = null;
                foreach (Match attribute in Attribute().Matches(tag.Value))
                {
                    var name = attribute.Groups["name"].Value;
                    var value = attribute.Groups["dq"].Success ? attribute.Groups["dq"].Value
                        : attribute.Groups["sq"].Success ? attribute.Groups["sq"].Value
                        : attribute.Groups["bare"].Value;
                    if (name.Equals("rel", StringComparison.OrdinalIgnoreCase))
                    {
                        rel ??= value;
                    }
                    else if (name.Equals("href", StringComparison.OrdinalIgnoreCase))
                    {
                        href ??= WebUtility.HtmlDecode(value).Trim();
                    }
                }

                if (rel is not null && !string.IsNullOrEmpty(href)
                    && rel.Split([' ', '\t', '\n', '\r', '\f'], StringSplitOptions.RemoveEmptyEntries).Any(t => t.Equals("icon", StringComparison.OrdinalIgnoreCase)))
                {
                    return href;
                }
            }
        }
        catch (RegexMatchTimeoutException)
        {
            // Pathological markup: no icon link rather than unbounded work.
        }

        return null;
    }

    /// <summary>
    /// Components that announce themselves (X-Powered-By, X-AspNet-Version, the generator meta tag, tell-tale
    /// cookies and paths). Names as Shodan's http.components keys spell them; sorted, distinct.
    /// </summary>
    public static IReadOnlyList<string> Components(HttpResult response, string html)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(html);
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in response.Headers)
        {
            if (name.Equals("X-Powered-By", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var part in value.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries))
                {
                    var product = part.Split('/')[0].Trim();
                    if (KnownPoweredBy(product) is { } known)
                    {
                        found.Add(known);
                    }
                }
            }
            else if (name.Equals("X-AspNet-Version", StringComparison.OrdinalIgnoreCase) || name.Equals("X-AspNetMvc-Version", StringComparison.OrdinalIgnoreCase))
            {
                found.Add("ASP.NET");
            }
            else if (name.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase))
            {
                if (value.StartsWith("PHPSESSID=", StringComparison.OrdinalIgnoreCase))
                {
                    found.Add("PHP");
                }
                else if (value.StartsWith("JSESSIONID=", StringComparison.OrdinalIgnoreCase))
                {
                    found.Add("Java");
                }
                else if (value.StartsWith("ASP.NET_SessionId=", StringComparison.OrdinalIgnoreCase))
                {
                    found.Add("ASP.NET");
                }
            }
            else if (name.Equals("Server", StringComparison.OrdinalIgnoreCase))
            {
                // Apache lists its modules in the Server header: "Apache/2.4.57 (Debian) OpenSSL/3.0.11 PHP/8.2.7".
                foreach (var token in value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
                {
                    if (KnownPoweredBy(token.Split('/')[0]) is { } known)
                    {
                        found.Add(known);
                    }
                }
            }
        }

        try
        {
            if (Generator().Match(html) is { Success: true } generator)
            {
                var first = generator.Groups["content"].Value.Trim().Split(' ')[0];
                if (first.Length is > 0 and <= 64)
                {
                    found.Add(first);
                }
            }
        }
        catch (RegexMatchTimeoutException)
        {
            // Pathological markup: skip the generator.
        }

        if (html.Contains("/wp-content/", StringComparison.Ordinal) || html.Contains("/wp-includes/", StringComparison.Ordinal))
        {
            found.Add("WordPress");
        }

        return [.. found];
    }

    private static string? KnownPoweredBy(string token) => token.ToUpperInvariant() switch
    {
        "PHP" => "PHP",
        "ASP.NET" => "ASP.NET",
        "EXPRESS" => "Express",
        "NEXT.JS" => "Next.js",
        "NUXT" or "NUXT.JS" => "Nuxt.js",
        "OPENSSL" => "OpenSSL",
        "SERVLET" => "Java Servlet",
        "JSP" => "JSP",
        "PLESK" or "PLESKLIN" or "PLESKWIN" => "Plesk",
        "PERL" => "Perl",
        "PYTHON" => "Python",
        "MOD_PERL" => "mod_perl",
        "MOD_WSGI" => "mod_wsgi",
        _ => null,
    };

    private static int FindTag(string html, string tag, int from)
    {
        var at = from;
        while (true)
        {
            var i = html.IndexOf(tag, at, StringComparison.OrdinalIgnoreCase);
            if (i < 0)
            {
                return -1;
            }

            var after = i + tag.Length;
            if (after >= html.Length || html[after] is '>' or ' ' or '\t' or '\n' or '\r' or '/')
            {
                return i;
            }

            at = after;
        }
    }

    private static string CollapseWhitespace(string text)
    {
        var sb = new StringBuilder(text.Length);
        var space = false;
        foreach (var ch in text)
        {
            if (char.IsWhiteSpace(ch))
            {
                space = sb.Length > 0;
                continue;
            }

            if (space)
            {
                sb.Append(' ');
                space = false;
            }

            sb.Append(ch);
        }

        return sb.ToString();
    }

    [GeneratedRegex(@"<link\b[^>]{0,2048}>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex LinkTag();

    [GeneratedRegex(@"(?<name>[a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:""(?<dq>[^""]*)""|'(?<sq>[^']*)'|(?<bare>[^\s""'>]+))", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex Attribute();

    [GeneratedRegex(@"<meta\b[^>]{0,512}?name\s*=\s*[""']generator[""'][^>]{0,512}?content\s*=\s*[""'](?<content>[^""'>]{1,128})[""']", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex Generator();
}
