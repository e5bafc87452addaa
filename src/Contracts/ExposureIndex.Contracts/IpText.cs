namespace ExposureIndex.Contracts;

/// <summary>IP address text that needs no <see cref="System.Net.IPAddress"/> (hot paths: validation, the store).</summary>
public static class IpText
{
    /// <summary>
    /// A strict dotted quad: four decimal parts of 1-3 digits, each at most 255, without leading zeros (IPv4 in its
    /// canonical text). <see cref="System.Net.IPAddress.TryParse(string, out System.Net.IPAddress)"/> also accepts "1", "1.2" and "010.1.1.1".
    /// </summary>
    public static bool TryParseDottedQuad(ReadOnlySpan<char> text, out uint value)
    {
        value = 0;
        var parts = 0;
        var i = 0;
        while (parts < 4)
        {
            var start = i;
            uint part = 0;
            while (i < text.Length && i - start < 3 && char.IsAsciiDigit(text[i]))
            {
                part = (part * 10) + (uint)(text[i] - '0');
                i++;
            }

            var digits = i - start;
            if (digits == 0 || part > 255 || (digits > 1 && text[start] == '0'))
            {
                return false;
            }

            value = (value << 8) | part;
            parts++;
            if (parts < 4)
            {
                if (i >= text.Length || text[i] != '.')
                {
                    return false;
                }

                i++;
            }
        }

        return i == text.Length;
    }
}
