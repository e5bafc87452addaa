using System.Globalization;

namespace ExposureIndex.Crawler.Fingerprinting.Probes;

/// <summary>The C-style escapes of a probe string (<c>q|...|</c>): \0 \a \b \f \n \r \t \v \\ \xHH, and \c for any other punctuation c.</summary>
internal static class ProbeEscapes
{
    public static bool TryDecode(string text, out byte[] bytes, out string? error)
    {
        var output = new List<byte>(text.Length);
        error = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '\\')
            {
                if (c > 0xFF)
                {
                    error = $"character U+{(int)c:X4} is not a byte; write it as \\xHH";
                    bytes = [];
                    return false;
                }

                output.Add((byte)c);
                continue;
            }

            if (i + 1 >= text.Length)
            {
                error = "the probe string ends with a lone backslash";
                bytes = [];
                return false;
            }

            var e = text[++i];
            switch (e)
            {
                case '0': output.Add(0); break;
                case 'a': output.Add(7); break;
                case 'b': output.Add(8); break;
                case 'f': output.Add(12); break;
                case 'n': output.Add(10); break;
                case 'r': output.Add(13); break;
                case 't': output.Add(9); break;
                case 'v': output.Add(11); break;
                case '\\': output.Add((byte)'\\'); break;
                case 'x':
                    if (text.Length - i - 1 < 2
                        || !byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
                    {
                        error = $"\\x at column {i} needs two hex digits";
                        bytes = [];
                        return false;
                    }

                    output.Add(value);
                    i += 2;
                    break;
                default:
                    if (char.IsAsciiLetterOrDigit(e))
                    {
                        error = $"unknown escape \\{e}";
                        bytes = [];
                        return false;
                    }

                    output.Add((byte)e);
                    break;
            }
        }

        bytes = [.. output];
        return true;
    }
}
