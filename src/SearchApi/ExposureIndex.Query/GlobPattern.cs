using System.Text;

namespace ExposureIndex.Query;

/// <summary>
/// A bounded wildcard pattern: <c>*</c> matches any run of characters (including none), <c>?</c> matches exactly
/// one character (one Unicode scalar value; an unpaired surrogate counts as one), and a backslash makes the next
/// character literal. The syntax is the one Elasticsearch's <c>wildcard</c> query uses, so <see cref="Pattern"/>
/// can be handed to it unchanged.
/// </summary>
/// <remarks>
/// Matching never backtracks: the pattern is split at its stars into segments; the first segment is anchored at
/// the start, the last at the end, and every middle segment is located leftmost-first with a bit-parallel
/// (Shift-And) scan. Leftmost placement is optimal because later segments only need room to the right, so each
/// input character is examined once per 64 pattern characters of the segment being searched: time is
/// O(n * ceil(m / 64)) for an input of n characters, whatever the pattern.
/// </remarks>
public sealed class GlobPattern : IEquatable<GlobPattern>
{
    /// <summary>The most wildcard characters (<c>*</c> and <c>?</c>) one pattern may contain (GUIDE §3.9).</summary>
    public const int MaxWildcards = 8;

    /// <summary>The longest pattern text accepted, matching the query length limit.</summary>
    public const int MaxPatternLength = QueryLimits.MaxQueryLength;

    private const int AnyRune = -1;

    private readonly Segment[] _segments;
    private readonly bool _startsWithStar;
    private readonly bool _endsWithStar;

    private GlobPattern(string pattern, bool caseSensitive, int wildcardCount, string literalPrefix, Segment[] segments, bool startsWithStar, bool endsWithStar)
    {
        Pattern = pattern;
        CaseSensitive = caseSensitive;
        WildcardCount = wildcardCount;
        LiteralPrefix = literalPrefix;
        _segments = segments;
        _startsWithStar = startsWithStar;
        _endsWithStar = endsWithStar;
    }

    /// <summary>The canonical pattern text: runs of stars collapsed, and only <c>\*</c>, <c>\?</c> and <c>\\</c> escapes.</summary>
    public string Pattern { get; }

    /// <summary>When false (the default), characters compare by invariant simple case folding, as <see cref="StringComparison.OrdinalIgnoreCase"/> does.</summary>
    public bool CaseSensitive { get; }

    /// <summary>How many wildcard characters the source pattern contained (before runs of stars were collapsed).</summary>
    public int WildcardCount { get; }

    /// <summary>The literal text before the first wildcard (unescaped); a backend may use it for an index range scan.</summary>
    public string LiteralPrefix { get; }

    /// <summary>Parses a pattern; throws <see cref="FormatException"/> naming the problem when it is invalid.</summary>
    public static GlobPattern Parse(string pattern, bool caseSensitive = false)
    {
        if (!TryParse(pattern, caseSensitive, out var glob, out var error))
        {
            throw new FormatException(error);
        }

        return glob;
    }

    /// <summary>Parses a pattern; an invalid one (trailing backslash, too long, more than <see cref="MaxWildcards"/> wildcards) is a miss with a reason.</summary>
    public static bool TryParse(string pattern, bool caseSensitive, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GlobPattern? glob, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        glob = null;
        if (pattern.Length > MaxPatternLength)
        {
            error = $"pattern is too long: {pattern.Length} characters (limit {MaxPatternLength})";
            return false;
        }

        var canonical = new StringBuilder(pattern.Length);
        var prefix = new StringBuilder();
        var segments = new List<Segment>();
        var current = new List<int>();
        var wildcards = 0;
        var seenWildcard = false;
        var startsWithStar = false;
        var endsWithStar = false;
        var i = 0;
        while (i < pattern.Length)
        {
            var c = pattern[i];
            if (c == '*')
            {
                wildcards++;
                seenWildcard = true;
                if (i == 0)
                {
                    startsWithStar = true;
                }

                // Runs of stars mean the same as one star; collapse them so that segments are never empty.
                if (!(canonical.Length > 0 && EndsWithUnescapedStar(canonical)))
                {
                    canonical.Append('*');
                    segments.Add(new Segment([.. current]));
                    current.Clear();
                }

                i++;
                endsWithStar = i == pattern.Length;
                continue;
            }

            endsWithStar = false;
            if (c == '?')
            {
                wildcards++;
                seenWildcard = true;
                canonical.Append('?');
                current.Add(AnyRune);
                i++;
                continue;
            }

            if (c == '\\')
            {
                if (i + 1 == pattern.Length)
                {
                    error = $"pattern ends with an escape character at position {i}";
                    return false;
                }

                i++;
            }

            var rune = ReadRune(pattern, i, out var consumed);
            var literal = pattern.AsSpan(i, consumed);
            if (consumed == 1 && (literal[0] is '*' or '?' or '\\'))
            {
                canonical.Append('\\');
            }

            canonical.Append(literal);
            if (!seenWildcard)
            {
                prefix.Append(literal);
            }

            current.Add(caseSensitive ? rune : Fold(rune));
            i += consumed;
        }

        if (wildcards > MaxWildcards)
        {
            error = $"pattern has {wildcards} wildcards (limit {MaxWildcards})";
            return false;
        }

        segments.Add(new Segment([.. current]));
        glob = new GlobPattern(canonical.ToString(), caseSensitive, wildcards, prefix.ToString(), [.. segments], startsWithStar, endsWithStar);
        error = null;
        return true;
    }

    /// <summary>Escapes <c>*</c>, <c>?</c> and <c>\</c> so that <paramref name="literal"/> matches only itself.</summary>
    public static string Escape(string literal)
    {
        ArgumentNullException.ThrowIfNull(literal);
        var builder = new StringBuilder(literal.Length + 4);
        foreach (var c in literal)
        {
            if (c is '*' or '?' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>True when the whole of <paramref name="input"/> matches the pattern.</summary>
    public bool IsMatch(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        long steps = 0;
        return IsMatch(input.AsSpan(), ref steps);
    }

    /// <summary>True when the whole of <paramref name="input"/> matches the pattern.</summary>
    public bool IsMatch(ReadOnlySpan<char> input)
    {
        long steps = 0;
        return IsMatch(input, ref steps);
    }

    /// <summary>
    /// The pattern as a SQL LIKE pattern (<c>%</c> for <c>*</c>, <c>_</c> for <c>?</c>) with <paramref name="escape"/>
    /// escaping literal <c>%</c>, <c>_</c> and itself. Use it with <c>LIKE ... ESCAPE</c>; mind that the engine's
    /// case folding may differ from <see cref="IsMatch(string)"/> outside ASCII.
    /// </summary>
    public string ToSqlLikePattern(char escape = '\\')
    {
        var builder = new StringBuilder(Pattern.Length + 4);
        for (var i = 0; i < Pattern.Length; i++)
        {
            var c = Pattern[i];
            switch (c)
            {
                case '*':
                    builder.Append('%');
                    break;
                case '?':
                    builder.Append('_');
                    break;
                case '\\':
                    i++;
                    AppendLikeLiteral(builder, Pattern[i], escape);
                    break;
                default:
                    AppendLikeLiteral(builder, c, escape);
                    break;
            }
        }

        return builder.ToString();
    }

    public bool Equals(GlobPattern? other)
        => other is not null && CaseSensitive == other.CaseSensitive && string.Equals(Pattern, other.Pattern, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as GlobPattern);

    public override int GetHashCode() => HashCode.Combine(StringComparer.Ordinal.GetHashCode(Pattern), CaseSensitive);

    public override string ToString() => Pattern;

    /// <summary>The matcher, counting inner-loop steps so tests can check linearity without a clock.</summary>
    internal bool IsMatch(ReadOnlySpan<char> input, ref long steps)
    {
        if (_segments.Length == 1)
        {
            // No star: the single segment must cover the input exactly.
            return MatchAnchored(_segments[0], input, 0, out var end, ref steps) && end == input.Length;
        }

        var position = 0;
        var first = _segments[0];
        if (!_startsWithStar && first.Length > 0)
        {
            if (!MatchAnchored(first, input, 0, out position, ref steps))
            {
                return false;
            }
        }

        var last = _segments[^1];
        var limit = input.Length;
        if (!_endsWithStar && last.Length > 0)
        {
            // The last segment is anchored at the end: find where its final last.Length characters begin.
            var start = input.Length;
            for (var k = 0; k < last.Length; k++)
            {
                steps++;
                if (start <= position)
                {
                    return false;
                }

                System.Text.Rune.DecodeLastFromUtf16(input[..start], out _, out var width);
                start -= width;
            }

            if (start < position || !MatchAnchored(last, input, start, out _, ref steps))
            {
                return false;
            }

            limit = start;
        }

        for (var s = 1; s < _segments.Length - 1; s++)
        {
            if (!FindLeftmost(_segments[s], input, position, limit, out position, ref steps))
            {
                return false;
            }
        }

        return true;
    }

    private bool MatchAnchored(Segment segment, ReadOnlySpan<char> input, int start, out int end, ref long steps)
    {
        var position = start;
        foreach (var atom in segment.Atoms)
        {
            steps++;
            if (position >= input.Length)
            {
                end = position;
                return false;
            }

            var rune = ReadRune(input, position, out var consumed);
            if (atom != AnyRune && atom != (CaseSensitive ? rune : Fold(rune)))
            {
                end = position;
                return false;
            }

            position += consumed;
        }

        end = position;
        return true;
    }

    /// <summary>Shift-And search for the leftmost occurrence of <paramref name="segment"/> within [start, limit).</summary>
    private bool FindLeftmost(Segment segment, ReadOnlySpan<char> input, int start, int limit, out int end, ref long steps)
    {
        var words = segment.Words;
        Span<ulong> state = words <= 16 ? stackalloc ulong[words] : new ulong[words];
        state.Clear();
        var lastWord = (segment.Length - 1) >> 6;
        var lastBit = 1UL << ((segment.Length - 1) & 63);
        var position = start;
        while (position < limit)
        {
            var rune = ReadRune(input, position, out var consumed);
            position += consumed;
            var mask = segment.MaskFor(CaseSensitive ? rune : Fold(rune));
            ulong carry = 1;
            for (var w = 0; w < words; w++)
            {
                steps++;
                var next = (state[w] << 1) | carry;
                carry = state[w] >> 63;
                state[w] = next & mask[w];
            }

            if ((state[lastWord] & lastBit) != 0)
            {
                end = position;
                return true;
            }
        }

        end = position;
        return false;
    }

    private static bool EndsWithUnescapedStar(StringBuilder canonical)
    {
        if (canonical[^1] != '*')
        {
            return false;
        }

        // A star is escaped when an odd number of backslashes precedes it.
        var backslashes = 0;
        for (var k = canonical.Length - 2; k >= 0 && canonical[k] == '\\'; k--)
        {
            backslashes++;
        }

        return backslashes % 2 == 0;
    }

    private static void AppendLikeLiteral(StringBuilder builder, char c, char escape)
    {
        if (c == '%' || c == '_' || c == escape)
        {
            builder.Append(escape);
        }

        builder.Append(c);
    }

    private static int ReadRune(ReadOnlySpan<char> text, int index, out int consumed)
    {
        var c = text[index];
        if (!char.IsSurrogate(c))
        {
            consumed = 1;
            return c;
        }

        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            consumed = 2;
            return char.ConvertToUtf32(c, text[index + 1]);
        }

        // An unpaired surrogate is one character of its own; it can only match itself or '?'.
        consumed = 1;
        return c;
    }

    private static int Fold(int rune)
    {
        if (rune < 0x80)
        {
            return rune is >= 'a' and <= 'z' ? rune - 32 : rune;
        }

        return System.Text.Rune.IsValid(rune) ? System.Text.Rune.ToUpperInvariant(new System.Text.Rune(rune)).Value : rune;
    }

    private sealed class Segment
    {
        private readonly Dictionary<int, ulong[]> _masks = [];
        private readonly ulong[] _anyMask;

        public Segment(int[] atoms)
        {
            Atoms = atoms;
            Words = Math.Max(1, (atoms.Length + 63) >> 6);
            _anyMask = new ulong[Words];
            for (var k = 0; k < atoms.Length; k++)
            {
                if (atoms[k] == AnyRune)
                {
                    _anyMask[k >> 6] |= 1UL << (k & 63);
                }
            }

            for (var k = 0; k < atoms.Length; k++)
            {
                if (atoms[k] == AnyRune)
                {
                    continue;
                }

                if (!_masks.TryGetValue(atoms[k], out var mask))
                {
                    mask = (ulong[])_anyMask.Clone();
                    _masks[atoms[k]] = mask;
                }

                mask[k >> 6] |= 1UL << (k & 63);
            }
        }

        public int[] Atoms { get; }

        public int Length => Atoms.Length;

        public int Words { get; }

        public ulong[] MaskFor(int rune) => _masks.TryGetValue(rune, out var mask) ? mask : _anyMask;
    }
}
