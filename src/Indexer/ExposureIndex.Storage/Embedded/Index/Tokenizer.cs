using ExposureIndex.Contracts;
using ExposureIndex.Query;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>
/// The embedded store's use of the query language's word rule (<see cref="TextTokenizer"/>): words are handled
/// as 64-bit hashes computed by <see cref="TextTokenizer.WordHashes"/> for documents and queries alike, so a query
/// word matches exactly the documents that contain it as a word. Adjacent word pairs are indexed too (bigrams),
/// so a two-word phrase is answered from the index alone and longer phrases only verify a small candidate set.
/// </summary>
internal static class Tokenizer
{
    /// <summary>Only the head of a banner is indexed; phrase checks read the whole banner.</summary>
    public const int MaxIndexedChars = 16 * 1024;

    public static void WordHashes(ReadOnlySpan<char> text, List<ulong> hashes)
        => TextTokenizer.WordHashes(text.Length > MaxIndexedChars ? text[..MaxIndexedChars] : text, hashes);

    /// <summary>
    /// A banner as text (<see cref="BannerText"/>'s rule), decoded into the caller's reusable <paramref name="scratch"/>
    /// (grown as needed; a banner decodes to at most one char per byte): no string per banner on hot paths.
    /// </summary>
    public static ReadOnlySpan<char> DecodeBanner(ReadOnlySpan<byte> banner, ref char[]? scratch)
    {
        if (scratch is null || scratch.Length < banner.Length)
        {
            scratch = new char[Math.Max(banner.Length, Math.Max(4096, (scratch?.Length ?? 0) * 2))];
        }

        return scratch.AsSpan(0, BannerText.Decode(banner, scratch));
    }

    public static List<ulong> WordHashes(string text)
    {
        var hashes = new List<ulong>();
        TextTokenizer.WordHashes(text.AsSpan(), hashes);
        return hashes;
    }

    /// <summary>The key of an adjacent pair of words; mixed so it cannot coincide with single-word keys by construction.</summary>
    public static ulong Bigram(ulong first, ulong second)
        => System.Numerics.BitOperations.RotateLeft(first * 0x9E3779B97F4A7C15UL, 29) ^ (second + 0xD6E8FEB86659FD93UL) ^ 0xB16B16B16B16B16BUL;

    /// <summary>True when the words of the phrase occur consecutively among the words of <paramref name="text"/>.</summary>
    public static bool ContainsPhrase(string text, IReadOnlyList<ulong> phrase)
        => ContainsPhrase(text.AsSpan(), phrase, []);

    /// <summary>As <see cref="ContainsPhrase(string, IReadOnlyList{ulong})"/>, tokenizing into the caller's reusable <paramref name="words"/>.</summary>
    public static bool ContainsPhrase(ReadOnlySpan<char> text, IReadOnlyList<ulong> phrase, List<ulong> words)
    {
        if (phrase.Count == 0)
        {
            return true;
        }

        words.Clear();
        TextTokenizer.WordHashes(text, words);
        for (var start = 0; start + phrase.Count <= words.Count; start++)
        {
            var all = true;
            for (var j = 0; j < phrase.Count; j++)
            {
                if (words[start + j] != phrase[j])
                {
                    all = false;
                    break;
                }
            }

            if (all)
            {
                return true;
            }
        }

        return false;
    }
}
