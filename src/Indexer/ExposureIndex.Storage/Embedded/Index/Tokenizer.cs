using ExposureIndex.Query;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>
/// The embedded store's use of the query language's word rule: "Apache/2.4.57 (Debian)" gives apache, 2, 4,
/// 57, debian. The same function tokenizes documents and queries, so a query word matches exactly the
/// documents that contain it as a word.
/// </summary>
internal static class Tokenizer
{
    /// <summary>Only the head of a banner is indexed; phrase checks read the whole banner.</summary>
    public const int MaxIndexedChars = 16 * 1024;

    /// <summary>The query language's word rule (<see cref="TextTokenizer"/>), so documents and queries split alike.</summary>
    public static void Tokenize(ReadOnlySpan<char> text, List<string> tokens)
        => TextTokenizer.Tokenize(text.Length > MaxIndexedChars ? text[..MaxIndexedChars] : text, tokens);

    public static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        TextTokenizer.Tokenize(text.AsSpan(), tokens);
        return tokens;
    }

    /// <summary>A stable 64-bit token hash (FNV-1a over UTF-16 code units); postings are keyed by it.</summary>
    public static ulong Hash(ReadOnlySpan<char> token)
    {
        var h = 14695981039346656037UL;
        foreach (var ch in token)
        {
            h ^= ch;
            h *= 1099511628211UL;
        }

        return h;
    }

    /// <summary>True when the words of <paramref name="phrase"/> occur consecutively among the words of <paramref name="text"/>.</summary>
    public static bool ContainsPhrase(string text, IReadOnlyList<string> phraseTokens)
    {
        if (phraseTokens.Count == 0)
        {
            return true;
        }

        var tokens = Tokenize(text);
        for (var start = 0; start + phraseTokens.Count <= tokens.Count; start++)
        {
            var all = true;
            for (var j = 0; j < phraseTokens.Count; j++)
            {
                if (!string.Equals(tokens[start + j], phraseTokens[j], StringComparison.Ordinal))
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
