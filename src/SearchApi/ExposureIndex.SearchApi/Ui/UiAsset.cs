namespace ExposureIndex.SearchApi.Ui;

/// <summary>
/// One file of the web UI, held in memory with its compressed forms and a strong entity tag per form
/// (RFC 9110 §8.8.3: each content coding is a different representation, so each needs its own tag).
/// </summary>
internal sealed class UiAsset
{
    public UiAsset(string name, string contentType, byte[] identity, byte[]? brotli, byte[]? gzip, string hash)
    {
        Name = name;
        ContentType = contentType;
        Identity = identity;
        Brotli = brotli;
        Gzip = gzip;
        Hash = hash;
    }

    public string Name { get; }

    public string ContentType { get; }

    public byte[] Identity { get; }

    /// <summary>Null when the type is not compressible or compression did not make it smaller.</summary>
    public byte[]? Brotli { get; }

    public byte[]? Gzip { get; }

    /// <summary>Hex digest of <see cref="Identity"/>; the entity tags derive from it.</summary>
    public string Hash { get; }

    /// <summary>The smallest representation the client accepts: Brotli, then gzip, then the bytes as they are.</summary>
    public UiRepresentation Select(ContentCodings accepted)
    {
        if (Brotli is not null && accepted.HasFlag(ContentCodings.Brotli))
        {
            return new UiRepresentation(Brotli, "br", $"\"{Hash}-br\"");
        }

        if (Gzip is not null && accepted.HasFlag(ContentCodings.Gzip))
        {
            return new UiRepresentation(Gzip, "gzip", $"\"{Hash}-gz\"");
        }

        return new UiRepresentation(Identity, null, $"\"{Hash}\"");
    }
}

/// <summary>The bytes sent for one request, with their Content-Encoding (null for identity) and entity tag.</summary>
internal readonly record struct UiRepresentation(byte[] Body, string? Encoding, string ETag);
