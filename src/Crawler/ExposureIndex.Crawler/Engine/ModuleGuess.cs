namespace ExposureIndex.Crawler.Engine;

/// <summary>
/// A first guess at the service from the opening bytes, for Shodan's <c>_shodan.module</c>. Deliberately small:
/// real identification (probes, matches, CPEs) is the probe engine's job.
/// </summary>
internal static class ModuleGuess
{
    public static string? FromBanner(ReadOnlySpan<byte> data, int port)
    {
        if (data.StartsWith("HTTP/"u8))
        {
            return "http";
        }

        if (data.StartsWith("SSH-"u8))
        {
            return "ssh"; // RFC 4253 §4.2 identification string
        }

        if (data.StartsWith("220"u8))
        {
            // FTP (RFC 959) and SMTP (RFC 5321 §4.2) both greet with 220; the text or the port tells them apart.
            var line = FirstLine(data);
            if (ContainsIgnoreCase(line, "SMTP"u8) || ContainsIgnoreCase(line, "mail"u8))
            {
                return "smtp";
            }

            if (ContainsIgnoreCase(line, "FTP"u8))
            {
                return "ftp";
            }

            return port switch
            {
                21 or 2121 => "ftp",
                25 or 465 or 587 or 2525 => "smtp",
                _ => null,
            };
        }

        if (data.StartsWith("+OK"u8))
        {
            return "pop3"; // RFC 1939 §4 greeting
        }

        if (data.StartsWith("* OK"u8) || data.StartsWith("* PREAUTH"u8))
        {
            return "imap"; // RFC 9051 §7.1 greeting
        }

        if (data.StartsWith("RFB "u8))
        {
            return "vnc"; // RFC 6143 §7.1.1 ProtocolVersion
        }

        if (data.Length >= 2 && data[0] == 0xFF && data[1] is >= 0xFB and <= 0xFE)
        {
            return "telnet"; // RFC 854: IAC WILL/WONT/DO/DONT option negotiation
        }

        return null;
    }

    private static ReadOnlySpan<byte> FirstLine(ReadOnlySpan<byte> data)
    {
        var end = data.IndexOf((byte)'\n');
        return end < 0 ? data : data[..end];
    }

    private static bool ContainsIgnoreCase(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(haystack.Slice(i, needle.Length), needle))
            {
                return true;
            }
        }

        return false;
    }
}
