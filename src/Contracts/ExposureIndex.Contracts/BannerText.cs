using System.Text;

namespace ExposureIndex.Contracts;

/// <summary>
/// Turns raw banner bytes into text the way users expect to read and search them: valid UTF-8 stays UTF-8,
/// anything else maps byte-for-byte through Latin-1 (so every byte survives and regexes see the same
/// characters nmap's engine sees).
/// </summary>
public static class BannerText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string Decode(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return string.Empty;
        }

        if (System.Text.Unicode.Utf8.IsValid(data))
        {
            return StrictUtf8.GetString(data);
        }

        return Encoding.Latin1.GetString(data);
    }
}
