using System.Collections.Frozen;
using System.IO.Compression;
using System.Resources;
using System.Security.Cryptography;
using System.Text;

namespace ExposureIndex.SearchApi.Ui;

/// <summary>
/// The web UI's files, read once from this assembly's embedded resources (UiAssets.resx lists wwwroot/*).
/// Files are looked up by exact name in a frozen dictionary, never by path, so no request can reach anything
/// else. Every asset URL carries <see cref="Version"/>, a digest of all files, which lets them be cached as
/// immutable while index.html (which names the version) is always revalidated.
/// </summary>
internal sealed class UiAssetCatalog
{
    /// <summary>The manifest name MSBuild gives Ui/UiAssets.resx (root namespace + folder + file).</summary>
    public const string ResourceName = "ExposureIndex.SearchApi.Ui.UiAssets.resources";

    /// <summary>index.html names its assets through this placeholder, replaced by "/ui/{version}".</summary>
    public const string AssetBasePlaceholder = "%ASSET_BASE%";

    public const string IndexName = "index.html";

    private static readonly Lazy<UiAssetCatalog> EmbeddedLazy = new(LoadEmbedded);

    private static readonly FrozenDictionary<string, (string ContentType, bool Compressible)> Types = new Dictionary<string, (string, bool)>(StringComparer.Ordinal)
    {
        // RFC 9239 §6: text/javascript is the one JavaScript type; charset given so no sniffing is needed.
        [".js"] = ("text/javascript; charset=utf-8", true),
        [".css"] = ("text/css; charset=utf-8", true),
        [".html"] = ("text/html; charset=utf-8", true),
        [".svg"] = ("image/svg+xml", true),
        [".json"] = ("application/json; charset=utf-8", true),
        [".txt"] = ("text/plain; charset=utf-8", true),
        [".png"] = ("image/png", false),
        [".ico"] = ("image/x-icon", true),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private readonly FrozenDictionary<string, UiAsset> _assets;

    private UiAssetCatalog(string version, UiAsset index, FrozenDictionary<string, UiAsset> assets)
    {
        Version = version;
        Index = index;
        _assets = assets;
    }

    /// <summary>The catalog built from this assembly's resources, loaded and compressed on first use.</summary>
    public static UiAssetCatalog Embedded => EmbeddedLazy.Value;

    public string Version { get; }

    /// <summary>index.html with its asset base filled in; served at "/" only.</summary>
    public UiAsset Index { get; }

    public string AssetBase => "/ui/" + Version;

    public IEnumerable<string> Names => _assets.Keys;

    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out UiAsset? asset)
        => _assets.TryGetValue(name, out asset);

    /// <summary>Builds a catalog from named files; throws naming the file when one cannot be served.</summary>
    public static UiAssetCatalog Build(IReadOnlyCollection<KeyValuePair<string, byte[]>> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, content) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            if (!IsPlainName(name))
            {
                throw new InvalidOperationException($"UI asset name '{name}' must be a plain file name (letters, digits, '-', '_', '.')");
            }

            digest.AppendData(Encoding.UTF8.GetBytes(name + "\n" + content.Length + "\n"));
            digest.AppendData(content);
        }

        var version = Convert.ToHexStringLower(digest.GetHashAndReset())[..16];
        var template = files.FirstOrDefault(f => f.Key == IndexName).Value
            ?? throw new InvalidOperationException($"the UI assets have no {IndexName}");
        var indexText = Encoding.UTF8.GetString(template);
        if (!indexText.Contains(AssetBasePlaceholder, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{IndexName} never uses {AssetBasePlaceholder}, so it cannot name its versioned assets");
        }

        var index = Create(IndexName, Encoding.UTF8.GetBytes(indexText.Replace(AssetBasePlaceholder, "/ui/" + version, StringComparison.Ordinal)));
        var assets = files.Where(f => f.Key != IndexName).ToDictionary(f => f.Key, f => Create(f.Key, f.Value), StringComparer.Ordinal);
        return new UiAssetCatalog(version, index, assets.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>The content type for a file name, or null when the UI does not serve that kind of file.</summary>
    public static string? ContentTypeOf(string name)
        => Types.TryGetValue(Path.GetExtension(name), out var type) ? type.ContentType : null;

    private static UiAssetCatalog LoadEmbedded()
    {
        var assembly = typeof(UiAssetCatalog).Assembly;
        using var stream = assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the web UI's resources ({ResourceName}) are missing from {assembly.GetName().Name}");
        using var reader = new ResourceReader(stream);
        var files = new List<KeyValuePair<string, byte[]>>();
        var entries = reader.GetEnumerator();
        while (entries.MoveNext())
        {
            var name = (string)entries.Key;
            var content = entries.Value as byte[]
                ?? throw new InvalidOperationException($"UI asset '{name}' in {ResourceName} is not a byte[] file reference");
            files.Add(new(name, content));
        }

        return Build(files);
    }

    private static UiAsset Create(string name, byte[] content)
    {
        if (!Types.TryGetValue(Path.GetExtension(name), out var type))
        {
            throw new InvalidOperationException($"UI asset '{name}' has an extension the UI does not serve (no content type for '{Path.GetExtension(name)}')");
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(content))[..20];
        byte[]? brotli = null;
        byte[]? gzip = null;
        if (type.Compressible)
        {
            brotli = Smaller(content, s => new BrotliStream(s, CompressionLevel.SmallestSize, leaveOpen: true));
            gzip = Smaller(content, s => new GZipStream(s, CompressionLevel.SmallestSize, leaveOpen: true));
        }

        return new UiAsset(name, type.ContentType, content, brotli, gzip, hash);
    }

    private static byte[]? Smaller(byte[] content, Func<Stream, Stream> compressor)
    {
        using var output = new MemoryStream();
        using (var compress = compressor(output))
        {
            compress.Write(content);
        }

        return output.Length < content.Length ? output.ToArray() : null;
    }

    private static bool IsPlainName(string name)
        => name.Length is > 0 and <= 64
            && name[0] != '.'
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
