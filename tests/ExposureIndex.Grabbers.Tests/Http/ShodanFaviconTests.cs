using System.Text;
using ExposureIndex.Contracts;
using ExposureIndex.Grabbers.Http;

namespace ExposureIndex.Grabbers.Tests.Http;

public sealed class ShodanFaviconTests
{
    [Fact]
    public void MurmurHash3_PublishedVector_MatchesPythonMmh3()
        // mmh3's documentation: mmh3.hash("foo") == -156908512.
        => Assert.Equal(-156908512, MurmurHash3.Hash32("foo"u8));

    [Fact]
    public void EncodeBytes_LongInput_76CharLinesEachEndingInNewline()
    {
        var data = Enumerable.Range(0, 200).Select(i => (byte)i).ToArray();

        var text = ShodanFavicon.EncodeBytes(data);

        var lines = text.Split('\n');
        Assert.Equal(string.Empty, lines[^1]);
        Assert.All(lines[..^2], l => Assert.Equal(76, l.Length));
        Assert.InRange(lines[^2].Length, 1, 76);
        Assert.Equal(Convert.ToBase64String(data), text.Replace("\n", string.Empty, StringComparison.Ordinal));
    }

    [Fact]
    public void EncodeBytes_Empty_EmptyLikePython() => Assert.Equal(string.Empty, ShodanFavicon.EncodeBytes([]));

    [Fact]
    public void EncodeBytes_ExactMultipleOf57Bytes_NoBlankLine()
    {
        // 57 input bytes make exactly one 76-character line: encodebytes writes it with a single trailing newline.
        var text = ShodanFavicon.EncodeBytes(new byte[57]);

        Assert.Equal(new string('A', 76) + "\n", text);
    }

    [Fact]
    public void Hash_Favicon_IsMmh3OfEncodeBytes()
    {
        var data = Encoding.ASCII.GetBytes(new string('z', 500));

        Assert.Equal(MurmurHash3.Hash32(Encoding.ASCII.GetBytes(ShodanFavicon.EncodeBytes(data))), ShodanFavicon.Hash(data));
        Assert.NotEqual(MurmurHash3.Hash32(Encoding.ASCII.GetBytes(Convert.ToBase64String(data))), ShodanFavicon.Hash(data));
    }
}
