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

    /// <summary>
    /// Decodes like <see cref="Decode(ReadOnlySpan{byte})"/> into <paramref name="destination"/>, which must hold at
    /// least <c>data.Length</c> chars (either decoding yields at most one char per byte); returns the chars written.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> data, Span<char> destination)
    {
        if (destination.Length < data.Length)
        {
            throw new ArgumentException($"the destination holds {destination.Length} chars; {data.Length} are needed", nameof(destination));
        }

        if (data.IsEmpty)
        {
            return 0;
        }

        return System.Text.Unicode.Utf8.IsValid(data)
            ? StrictUtf8.GetChars(data, destination)
            : Encoding.Latin1.GetChars(data, destination);
    }
}
