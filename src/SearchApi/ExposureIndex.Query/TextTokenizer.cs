using System.Globalization;
using System.Runtime.CompilerServices;

namespace ExposureIndex.Query;

/// <summary>
/// The one definition of "words" for free text (<see cref="TextNode"/>) and text filters (<see cref="PhraseValue"/>),
/// so every backend agrees on what matches: a word is a maximal run of letters, digits and combining marks
/// (Unicode categories L*, N*, M*), lower-cased with the invariant culture. A word term matches when the field
/// contains that word; a phrase matches when the field contains its words consecutively. Everything else
/// (punctuation, symbols, whitespace) only separates words, so <c>nginx/1.25</c> is <c>nginx</c>, <c>1</c>, <c>25</c>.
/// </summary>
public static class TextTokenizer
{
    /// <summary>
    /// An Elasticsearch <c>pattern</c> tokenizer expression that splits exactly as <see cref="Tokenize"/> does; pair it
    /// with the <c>lowercase</c> token filter.
    /// </summary>
    public const string ElasticsearchSplitPattern = @"[^\p{L}\p{N}\p{M}]+";

    /// <summary>Splits <paramref name="text"/> into lower-cased words, in order. Linear in the length of the text.</summary>
    public static IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = new List<string>();
        Tokenize(text.AsSpan(), words);
        return words;
    }

    /// <summary>
    /// Appends the words of <paramref name="text"/> to <paramref name="words"/> (the allocation-light form the stores
    /// use when indexing). Words longer than <see cref="MaxWordLength"/> characters keep only their first
    /// <see cref="MaxWordLength"/> characters, for documents and queries alike, so both sides agree.
    /// </summary>
    public static void Tokenize(ReadOnlySpan<char> text, List<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var start = -1;
        var i = 0;
        while (i <= text.Length)
        {
            var width = 1;
            var inWord = false;
            if (i < text.Length)
            {
                var c = text[i];
                if (c < 128)
                {
                    // ASCII fast path: banners are mostly ASCII.
                    inWord = char.IsAsciiLetterOrDigit(c);
                }
                else
                {
                    var status = System.Text.Rune.DecodeFromUtf16(text[i..], out var rune, out width);
                    inWord = status == System.Buffers.OperationStatus.Done && IsWordRune(rune);
                }
            }

            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                var word = text[start..Math.Min(i, start + MaxWordLength)];
                words.Add(word.ToString().ToLowerInvariant());
                start = -1;
            }

            i += width;
        }
    }

    /// <summary>
    /// The words of <paramref name="text"/> as 64-bit hashes (FNV-1a over the lower-cased UTF-16 code units of each
    /// word, after the same cut to <see cref="MaxWordLength"/>), without allocating a string per word. Stores index
    /// and look up words by these hashes; computing both sides with this one function keeps them in agreement.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WordHashes(ReadOnlySpan<char> text, List<ulong> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        const ulong Offset = 14695981039346656037UL;
        const ulong Prime = 1099511628211UL;
        var h = Offset;
        var length = 0;
        var inWordBefore = false;
        var i = 0;
        while (i <= text.Length)
        {
            var width = 1;
            var inWord = false;
            if (i < text.Length)
            {
                var c = text[i];
                if (c < 128)
                {
                    inWord = char.IsAsciiLetterOrDigit(c);
                }
                else
                {
                    var status = System.Text.Rune.DecodeFromUtf16(text[i..], out var rune, out width);
                    inWord = status == System.Buffers.OperationStatus.Done && IsWordRune(rune);
                }
            }

            if (inWord)
            {
                for (var k = 0; k < width; k++)
                {
                    if (length < MaxWordLength)
                    {
                        h = (h ^ char.ToLowerInvariant(text[i + k])) * Prime;
                        length++;
                    }
                }
            }
            else if (inWordBefore)
            {
                hashes.Add(h);
                h = Offset;
                length = 0;
            }

            inWordBefore = inWord;
            i += width;
        }
    }

    /// <summary>Longest word kept; longer runs are cut to this many characters (documents and queries alike).</summary>
    public const int MaxWordLength = 64;

    public static bool HasWord(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        for (var i = 0; i < text.Length;)
        {
            if (System.Text.Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var width) == System.Buffers.OperationStatus.Done && IsWordRune(rune))
            {
                return true;
            }

            i += width;
        }

        return false;
    }

    private static bool IsWordRune(System.Text.Rune rune) => System.Text.Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => true,
        _ => false,
    };
}
