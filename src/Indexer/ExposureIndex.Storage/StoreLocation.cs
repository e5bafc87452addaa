namespace ExposureIndex.Storage;

/// <summary>
/// Where the store lives, chosen by URI (GUIDE §3.8): <c>embedded:./data</c> (or a plain directory path) for the
/// embedded store, <c>http://host:9200</c> / <c>https://...</c> for Elasticsearch.
/// </summary>
public sealed record StoreLocation(StoreBackend Backend, string Path, Uri? Url)
{
    public static bool TryParse(string? text, out StoreLocation? location, out string? error)
    {
        location = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "the store location is empty (use embedded:DIR or http://host:9200)";
            return false;
        }

        if (text.StartsWith("embedded:", StringComparison.OrdinalIgnoreCase))
        {
            var path = text["embedded:".Length..];
            if (path.Length == 0)
            {
                error = "embedded: needs a directory, e.g. embedded:./data";
                return false;
            }

            location = new StoreLocation(StoreBackend.Embedded, path, null);
            return true;
        }

        if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || string.IsNullOrEmpty(url.Host))
            {
                error = $"'{text}' is not a valid Elasticsearch URL";
                return false;
            }

            location = new StoreLocation(StoreBackend.Elasticsearch, string.Empty, url);
            return true;
        }

        if (text.Contains("://", StringComparison.Ordinal))
        {
            error = $"unknown store scheme in '{text}' (use embedded:DIR or http(s)://host:9200)";
            return false;
        }

        location = new StoreLocation(StoreBackend.Embedded, text, null);
        return true;
    }

    public override string ToString() => Backend == StoreBackend.Embedded ? "embedded:" + Path : Url!.ToString();
}

public enum StoreBackend
{
    Embedded = 1,
    Elasticsearch = 2,
}
