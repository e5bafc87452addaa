using System.Globalization;

namespace ExposureIndex.Grabbers.Smb;

/// <summary>An SMB2 NEGOTIATE response (MS-SMB2 §2.2.4) with its negotiate contexts (§2.2.3.1).</summary>
internal sealed record Smb2Negotiate(
    uint Status,
    int SecurityMode,
    int DialectRevision,
    Guid ServerGuid,
    byte[] ServerGuidBytes,
    uint Capabilities,
    uint MaxTransactSize,
    uint MaxReadSize,
    uint MaxWriteSize,
    long SystemTime,
    long ServerStartTime,
    IReadOnlyList<int> PreauthHashes,
    IReadOnlyList<int> Ciphers,
    IReadOnlyList<int> SigningAlgorithms,
    IReadOnlyList<string> SecurityMechanisms,
    string? NegHint)
{
    public string Canonical() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Status:x8}|{SecurityMode}|{DialectRevision:x4}|{ServerGuid}|{Capabilities:x8}|{MaxTransactSize}|{MaxReadSize}|{MaxWriteSize}|{SystemTime}|{ServerStartTime}|{string.Join(',', PreauthHashes)}|{string.Join(',', Ciphers)}|{string.Join(',', SigningAlgorithms)}|{string.Join(',', SecurityMechanisms)}|{NegHint}");
}

/// <summary>An SMB1 negotiate response (MS-CIFS §2.2.4.52.2), reduced to whether a dialect was accepted.</summary>
/// <param name="DialectIndex">Index of the accepted dialect in our request, or 0xFFFF for none.</param>
internal sealed record Smb1Negotiate(uint Status, int WordCount, int DialectIndex)
{
    public bool Accepted => Status == 0 && WordCount > 1 && DialectIndex != 0xFFFF;

    public string Canonical() => string.Create(CultureInfo.InvariantCulture, $"{Status:x8}|{WordCount}|{DialectIndex}");
}

/// <summary>What one negotiate exchange returned: an SMB2 or an SMB1 response (a server may answer either to either).</summary>
internal sealed record SmbResult(Smb2Negotiate? Smb2, Smb1Negotiate? Smb1)
{
    public string Canonical() => (Smb2?.Canonical() ?? "-") + "#" + (Smb1?.Canonical() ?? "-");
}
