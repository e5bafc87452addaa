using Microsoft.AspNetCore.Http;

namespace ExposureIndex.SearchApi.Ui;

/// <summary>Headers every web UI response carries.</summary>
internal static class UiHeaders
{
    /// <summary>
    /// Content Security Policy (CSP Level 3): nothing loads unless listed, and only from this origin. No inline
    /// script or style, no eval, no plugins, no framing, no &lt;base&gt;, no form posts (the UI uses fetch).
    /// img-src allows data: for favicons carried inside banners (an &lt;img&gt; never runs script).
    /// Trusted Types (W3C Trusted Types §4) with no policy at all makes every HTML-parsing DOM sink (innerHTML,
    /// outerHTML, insertAdjacentHTML, document.write) throw: banners are hostile input, and the UI builds the
    /// page from text nodes only, so a slip into markup fails loudly instead of becoming an XSS.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
        "require-trusted-types-for 'script'; trusted-types 'none'";

    /// <summary>For "/": revalidate every time (RFC 9111 §5.2.2.4), cheap thanks to the entity tag.</summary>
    public const string RevalidateCacheControl = "no-cache";

    /// <summary>For versioned assets: a new version has a new URL (RFC 8246 immutable).</summary>
    public const string ImmutableCacheControl = "public, max-age=31536000, immutable";

    public static void Apply(IHeaderDictionary headers)
    {
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";
    }
}
