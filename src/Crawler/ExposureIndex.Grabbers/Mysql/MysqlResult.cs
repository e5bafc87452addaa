namespace ExposureIndex.Grabbers.Mysql;

/// <summary>
/// The first packet a MySQL/MariaDB server sends: the initial handshake (protocol 10, or 9 for ancient servers),
/// or an ERR packet instead ("Host '…' is not allowed to connect", "Too many connections").
/// </summary>
internal sealed record MysqlResult
{
    public required byte[] Packet { get; init; }

    public int ProtocolVersion { get; init; }

    public string ServerVersion { get; init; } = string.Empty;

    public uint ConnectionId { get; init; }

    /// <summary>The capability flags, lower 16 bits and (when sent) upper 16 bits combined.</summary>
    public uint Capabilities { get; init; }

    public bool HasUpperCapabilities { get; init; }

    public int CharacterSet { get; init; }

    public int StatusFlags { get; init; }

    /// <summary>MariaDB's extended capabilities, sent in the reserved bytes when CLIENT_MYSQL (bit 0) is clear.</summary>
    public uint MariaDbCapabilities { get; init; }

    public string? AuthPluginName { get; init; }

    public int? ErrorCode { get; init; }

    public string? SqlState { get; init; }

    public string? ErrorMessage { get; init; }

    public bool IsError => ErrorCode is not null;

    public bool SslSupported => (Capabilities & MysqlParser.ClientSsl) != 0;
}
