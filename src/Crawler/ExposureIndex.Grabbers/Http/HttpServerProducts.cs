using System.Text.RegularExpressions;
using ExposureIndex.Contracts;

namespace ExposureIndex.Grabbers.Http;

/// <summary>
/// Maps an HTTP Server header to product, version and OS the way nmap's http matches name them ("Apache httpd",
/// "nginx", "Microsoft IIS httpd"), with NVD's CPE vendor/product. Unknown servers of the form "Name/1.2" keep
/// their own name.
/// </summary>
internal static partial class HttpServerProducts
{
    // token (case-insensitive) -> product, CPE vendor, CPE product, OS implied by the product.
    private static readonly Dictionary<string, (string Product, string Vendor, string CpeProduct, string? Os)> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["nginx"] = ("nginx", "f5", "nginx", null),
        ["Apache"] = ("Apache httpd", "apache", "http_server", null),
        ["Microsoft-IIS"] = ("Microsoft IIS httpd", "microsoft", "internet_information_services", "Windows"),
        ["Microsoft-HTTPAPI"] = ("Microsoft HTTPAPI httpd", "microsoft", "httpapi", "Windows"),
        ["lighttpd"] = ("lighttpd", "lighttpd", "lighttpd", null),
        ["openresty"] = ("OpenResty web app server", "openresty", "openresty", null),
        ["Caddy"] = ("Caddy httpd", "caddyserver", "caddy", null),
        ["LiteSpeed"] = ("LiteSpeed httpd", "litespeedtech", "litespeed_web_server", null),
        ["gunicorn"] = ("Gunicorn", "gunicorn", "gunicorn", null),
        ["Werkzeug"] = ("Werkzeug httpd", "palletsprojects", "werkzeug", null),
        ["SimpleHTTP"] = ("SimpleHTTPServer", "python", "python", null),
        ["BaseHTTP"] = ("BaseHTTPServer", "python", "python", null),
        ["Apache-Coyote"] = ("Apache Tomcat/Coyote JSP engine", "apache", "coyote_http_connector", null),
        ["Jetty"] = ("Jetty", "eclipse", "jetty", null),
        ["Kestrel"] = ("Kestrel httpd", "microsoft", "kestrel", null),
        ["squid"] = ("Squid http proxy", "squid-cache", "squid", null),
        ["tinyproxy"] = ("tinyproxy", "tinyproxy_project", "tinyproxy", null),
        ["Varnish"] = ("Varnish", "varnish-cache", "varnish", null),
        ["thttpd"] = ("thttpd", "acme", "thttpd", null),
        ["mini_httpd"] = ("mini_httpd", "acme", "mini_httpd", null),
        ["Boa"] = ("Boa HTTPd", "boa", "boa_webserver", null),
        ["CherryPy"] = ("CherryPy httpd", "cherrypy", "cherrypy", null),
        ["TornadoServer"] = ("Tornado httpd", "tornadoweb", "tornado", null),
        ["uvicorn"] = ("Uvicorn", "encode", "uvicorn", null),
        ["Cowboy"] = ("Cowboy httpd", "ninenines", "cowboy", null),
        ["Node.js"] = ("Node.js", "nodejs", "node.js", null),
        ["GoAhead-Webs"] = ("GoAhead WebServer", "embedthis", "goahead", null),
        ["Apache-Tomcat"] = ("Apache Tomcat", "apache", "tomcat", null),
        ["MinIO"] = ("MinIO", "minio", "minio", null),
        ["Zope"] = ("Zope httpd", "zope", "zope", null),
    };

    // OS names that Apache and others put in their parenthesised comment ("Apache/2.4.57 (Debian)").
    private static readonly Dictionary<string, string> OsComments = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Debian"] = "Debian",
        ["Ubuntu"] = "Ubuntu",
        ["CentOS"] = "CentOS",
        ["Red Hat"] = "Red Hat Enterprise Linux",
        ["Red Hat Enterprise Linux"] = "Red Hat Enterprise Linux",
        ["Fedora"] = "Fedora",
        ["Rocky Linux"] = "Rocky Linux",
        ["AlmaLinux"] = "AlmaLinux",
        ["Amazon"] = "Amazon Linux",
        ["Amazon Linux"] = "Amazon Linux",
        ["Raspbian"] = "Raspbian",
        ["FreeBSD"] = "FreeBSD",
        ["Win32"] = "Windows",
        ["Win64"] = "Windows",
        ["Gentoo"] = "Gentoo",
        ["SUSE"] = "SUSE Linux",
        ["Alpine"] = "Alpine Linux",
    };

    /// <summary>Product facts from a Server header; false when the header names nothing recognisable.</summary>
    public static bool TryParse(string? server, out ProductMatch product)
    {
        product = null!;
        if (string.IsNullOrWhiteSpace(server))
        {
            return false;
        }

        Match first;
        try
        {
            first = ProductToken().Match(server.Trim());
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }

        if (!first.Success)
        {
            return false;
        }

        var name = first.Groups["name"].Value;
        var version = first.Groups["version"].Success ? first.Groups["version"].Value : null;
        var rest = server.Trim()[first.Length..];
        string? os = null;
        var comment = rest.TrimStart();
        if (comment.StartsWith('(') && comment.IndexOf(')', StringComparison.Ordinal) is var close and > 0)
        {
            var inside = comment[1..close].Trim();
            if (OsComments.TryGetValue(inside, out var named))
            {
                os = named;
            }
        }

        if (Known.TryGetValue(name, out var known))
        {
            product = new ProductMatch(known.Product, version, null, os ?? known.Os, Cpe.Application(known.Vendor, known.CpeProduct, version));
            return true;
        }

        // An unknown "Name/1.2": its own name, and a CPE whose vendor is the product (the common case in NVD).
        product = new ProductMatch(name, version, null, os, Cpe.Application(name, name, version));
        return true;
    }

    // product = token [ "/" product-version ] (RFC 9110 §10.2.4); Jetty writes "Jetty(9.4.51)".
    [GeneratedRegex(@"^(?<name>[A-Za-z][A-Za-z0-9._+-]{0,63}?)(?:[/(](?<version>[0-9][A-Za-z0-9._+~-]{0,63}))?(?:\)|(?=\s|$|/|;|,))", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex ProductToken();
}
