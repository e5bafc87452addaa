namespace ExposureIndex.GeoIp;

/// <summary>The part of an MMDB file that a <see cref="MmdbFormatException"/> blames.</summary>
public enum MmdbSection
{
    /// <summary>The file as a whole (empty, too large, no metadata marker).</summary>
    File = 0,

    /// <summary>The metadata map after the "\xAB\xCD\xEFMaxMind.com" marker.</summary>
    Metadata = 1,

    /// <summary>The binary search tree at the start of the file.</summary>
    SearchTree = 2,

    /// <summary>The 16 zero bytes between the search tree and the data section.</summary>
    Separator = 3,

    /// <summary>The data section holding the records.</summary>
    DataSection = 4,
}

/// <summary>
/// The file is not a valid MaxMind DB (format 2.x): the message names the broken part and, where known, the
/// offset (relative to the section) or the search-tree node. This is the only exception a corrupt or hostile
/// file produces; I/O problems (missing file, permissions) surface as the usual <see cref="IOException"/>s.
/// </summary>
public sealed class MmdbFormatException : Exception
{
    public MmdbFormatException()
        : this("MMDB file is corrupt.")
    {
    }

    public MmdbFormatException(string message)
        : this(message, MmdbSection.File, null, null)
    {
    }

    public MmdbFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MmdbFormatException(string message, MmdbSection section, long? offset, long? node)
        : base(message)
    {
        Section = section;
        Offset = offset;
        Node = node;
    }

    /// <summary>The broken part of the file.</summary>
    public MmdbSection Section { get; }

    /// <summary>The offset of the broken value, relative to the start of <see cref="Section"/>, when known.</summary>
    public long? Offset { get; }

    /// <summary>The search-tree node whose record is broken, when known.</summary>
    public long? Node { get; }

    internal static MmdbFormatException At(MmdbSection section, long offset, string problem) =>
        new($"MMDB {Describe(section)} is corrupt at offset {offset}: {problem}", section, offset, null);

    internal static MmdbFormatException InData(long offset, string problem) => At(MmdbSection.DataSection, offset, problem);

    internal static MmdbFormatException Metadata(string problem, long? offset = null) =>
        new(offset is { } o ? $"MMDB metadata is corrupt at offset {o}: {problem}" : $"MMDB metadata is corrupt: {problem}",
            MmdbSection.Metadata, offset, null);

    internal static string Describe(MmdbSection section) => section switch
    {
        MmdbSection.Metadata => "metadata",
        MmdbSection.SearchTree => "search tree",
        MmdbSection.Separator => "data section separator",
        MmdbSection.DataSection => "data section",
        _ => "file",
    };

    internal static MmdbFormatException Tree(long node, string problem) =>
        new($"MMDB search tree is corrupt at node {node}: {problem}", MmdbSection.SearchTree, null, node);

    internal static MmdbFormatException TreeRecord(long node, long recordValue, string problem) =>
        new($"MMDB search tree is corrupt: record value {recordValue} at node {node} {problem}", MmdbSection.SearchTree, null, node);
}
