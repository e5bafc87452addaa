using System.Text;
using ExposureIndex.Contracts;

namespace ExposureIndex.Grabbers.Http;

/// <summary>
/// Shodan's <c>http.favicon.hash</c>: <c>mmh3.hash(base64.encodebytes(data))</c>. Python's encodebytes (RFC 2045
/// §6.8 line length) writes the base64 text in lines of 76 characters, each ended by a single "\n", the last one
/// too. The hash therefore depends on that exact layout, so it is rebuilt here byte for byte.
/// </summary>
internal static class ShodanFavicon
{
    private const int LineLength = 76;

    /// <summary>The base64 text exactly as Python's <c>base64.encodebytes</c> returns it.</summary>
    public static string EncodeBytes(ReadOnlySpan<byte> data)
    {
        var base64 = Convert.ToBase64String(data);
        var sb = new StringBuilder(base64.Length + (base64.Length / LineLength) + 1);
        for (var i = 0; i < base64.Length; i += LineLength)
        {
            sb.Append(base64, i, Math.Min(LineLength, base64.Length - i)).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>The signed 32-bit MurmurHash3 (seed 0) of <see cref="EncodeBytes"/>.</summary>
    public static int Hash(ReadOnlySpan<byte> data) => MurmurHash3.Hash32(Encoding.ASCII.GetBytes(EncodeBytes(data)));
}
