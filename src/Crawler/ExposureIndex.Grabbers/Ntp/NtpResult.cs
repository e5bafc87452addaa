using System.Globalization;

namespace ExposureIndex.Grabbers.Ntp;

/// <summary>An NTP server's reply to a client request (RFC 5905 §7.3 packet header).</summary>
/// <param name="ReferenceId">The raw reference identifier; <see cref="ReferenceIdText"/> is its conventional rendering.</param>
/// <param name="ReferenceTimestamp">NTP 64-bit timestamp (seconds since 1900 in the high 32 bits); 0 when never synchronized.</param>
internal sealed record NtpResult(
    int Leap,
    int Version,
    int Mode,
    int Stratum,
    int Poll,
    int Precision,
    double RootDelay,
    double RootDispersion,
    uint ReferenceId,
    string ReferenceIdText,
    ulong ReferenceTimestamp,
    ulong OriginTimestamp,
    ulong ReceiveTimestamp,
    ulong TransmitTimestamp)
{
    /// <summary>NTP era 0 starts 1900-01-01; seconds below 2^31 are taken as era 1 (after 2036-02-07), RFC 5905 §6.</summary>
    public static DateTimeOffset? ToDateTime(ulong ntpTimestamp)
    {
        if (ntpTimestamp == 0)
        {
            return null;
        }

        var seconds = (long)(ntpTimestamp >> 32);
        var fraction = (ntpTimestamp & 0xFFFF_FFFF) / 4294967296.0;
        if (seconds < 0x8000_0000L)
        {
            seconds += 1L << 32;
        }

        var unix = seconds - 2_208_988_800L;
        return DateTimeOffset.FromUnixTimeSeconds(unix).AddTicks((long)(fraction * TimeSpan.TicksPerSecond));
    }

    public string Canonical() => string.Create(CultureInfo.InvariantCulture, $"{Leap}|{Version}|{Mode}|{Stratum}|{Poll}|{Precision}|{RootDelay:R}|{RootDispersion:R}|{ReferenceId}|{ReferenceIdText}|{ReferenceTimestamp}|{OriginTimestamp}|{ReceiveTimestamp}|{TransmitTimestamp}");
}

/// <summary>A mode 6 control response (RFC 1305 appendix B, RFC 9327 §2): header fields and the variables it carried.</summary>
internal sealed record NtpControlResult(
    int Version,
    int Opcode,
    bool IsResponse,
    bool IsError,
    bool More,
    int Sequence,
    int Status,
    int AssociationId,
    int Offset,
    string Text,
    IReadOnlyList<KeyValuePair<string, string>> Variables)
{
    public string? Get(string name) => Variables.FirstOrDefault(v => v.Key == name).Value;

    public string Canonical() => string.Create(CultureInfo.InvariantCulture, $"{Version}|{Opcode}|{IsResponse}|{IsError}|{More}|{Sequence}|{Status}|{AssociationId}|{Offset}|{Text}|{string.Join(';', Variables.Select(v => v.Key + "=" + v.Value))}");
}
