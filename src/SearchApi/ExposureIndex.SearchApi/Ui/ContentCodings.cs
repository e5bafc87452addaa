using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ExposureIndex.SearchApi.Ui;

/// <summary>Content codings a client accepts beyond identity, which is always acceptable here.</summary>
[Flags]
internal enum ContentCodings
{
    None = 0,
    Gzip = 1,
    Brotli = 2,
}

internal static class ContentCodingNegotiation
{
    /// <summary>
    /// Reads Accept-Encoding as RFC 9110 §12.5.3 defines it: a coding is acceptable when its own entry, or else
    /// the "*" entry, has a non-zero weight. No header means identity only (the conservative reading; §12.5.3
    /// allows any coding but old intermediaries mishandle unasked-for compression). "x-gzip" is gzip (§8.4.1.3).
    /// A header that does not parse also means identity only.
    /// </summary>
    public static ContentCodings Parse(StringValues acceptEncoding)
    {
        if (StringValues.IsNullOrEmpty(acceptEncoding) || !StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var entries))
        {
            return ContentCodings.None;
        }

        double? brotli = null;
        double? gzip = null;
        double? any = null;
        foreach (var entry in entries)
        {
            var weight = entry.Quality ?? 1.0;
            var name = entry.Value.Value ?? string.Empty;
            if (name.Equals("br", StringComparison.OrdinalIgnoreCase))
            {
                brotli = weight;
            }
            else if (name.Equals("gzip", StringComparison.OrdinalIgnoreCase) || name.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
            {
                gzip = Math.Max(gzip ?? 0, weight);
            }
            else if (name == "*")
            {
                any = weight;
            }
        }

        var result = ContentCodings.None;
        if ((brotli ?? any ?? 0) > 0)
        {
            result |= ContentCodings.Brotli;
        }

        if ((gzip ?? any ?? 0) > 0)
        {
            result |= ContentCodings.Gzip;
        }

        return result;
    }
}
