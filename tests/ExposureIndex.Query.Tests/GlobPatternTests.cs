using System.Text;
using ExposureIndex.Query;

namespace ExposureIndex.Query.Tests;

public sealed class GlobPatternTests
{
    [Theory]
    [InlineData("nginx*", "nginx", true)]
    [InlineData("nginx*", "nginx/1.25.3", true)]
    [InlineData("nginx*", "xnginx", false)]
    [InlineData("*nginx", "openresty-nginx", true)]
    [InlineData("*nginx*", "an nginx server", true)]
    [InlineData("*", "", true)]
    [InlineData("*", "anything", true)]
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    [InlineData("?", "", false)]
    [InlineData("?", "a", true)]
    [InlineData("?", "ab", false)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "ac", false)]
    [InlineData("a*b*c", "abc", true)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXcYYb", false)]
    [InlineData("a*a", "a", false)]
    [InlineData("a*a", "aa", true)]
    [InlineData("*a*a*", "a", false)]
    [InlineData("ab*ba", "aba", false)]
    [InlineData("ab*ba", "abba", true)]
    [InlineData("*ab?", "xxabab", false)]
    [InlineData("*ab?", "xxabx", true)]
    [InlineData(@"a\*b", "a*b", true)]
    [InlineData(@"a\*b", "axb", false)]
    [InlineData(@"a\?", "a?", true)]
    [InlineData(@"a\?", "ab", false)]
    [InlineData(@"a\\*", @"a\xyz", true)]
    [InlineData(@"\a\b", "ab", true)]
    [InlineData("NGINX*", "nginx/1.2", true)]
    [InlineData("äbc", "ÄBC", true)]
    [InlineData("*ß", "STRAß", true)]
    [InlineData("?", "😀", true)]
    [InlineData("??", "😀", false)]
    [InlineData("a?b", "a😀b", true)]
    [InlineData("*😀*", "xx😀yy", true)]
    [InlineData("東*", "東京", true)]
    public void IsMatch_CaseInsensitive_MatchesLikeReference(string pattern, string input, bool expected)
    {
        var glob = GlobPattern.Parse(pattern);

        Assert.Equal(expected, glob.IsMatch(input));
        Assert.Equal(expected, ReferenceMatch(pattern, input, caseSensitive: false));
    }

    [Fact]
    public void IsMatch_CaseSensitive_RespectsCase()
    {
        var glob = GlobPattern.Parse("Ab*", caseSensitive: true);

        Assert.True(glob.IsMatch("Abc"));
        Assert.False(glob.IsMatch("abc"));
        Assert.False(glob.Equals(GlobPattern.Parse("Ab*")));
    }

    [Fact]
    public void IsMatch_UnpairedSurrogates_CountAsOneCharacter()
    {
        Assert.True(GlobPattern.Parse("a?b").IsMatch("a\uD800b"));
        Assert.True(GlobPattern.Parse("*?").IsMatch("\uDC00"));
        Assert.False(GlobPattern.Parse("??").IsMatch("\uD800"));
    }

    [Fact]
    public void IsMatch_SegmentLongerThanOneMachineWord_UsesAllWords()
    {
        var segment = new string('a', 100) + "b" + new string('a', 40);
        var glob = GlobPattern.Parse("*" + segment + "*");

        Assert.True(glob.IsMatch(new string('a', 500) + segment + "zz"));
        Assert.False(glob.IsMatch(new string('a', 500) + segment[..^1] + "zz"));
        Assert.True(GlobPattern.Parse("x*" + segment + "?*y").IsMatch("x" + segment + "!y"));
    }

    [Fact]
    public void IsMatch_RandomPatterns_AgreeWithReference()
    {
        var random = new Random(20240601);
        var atoms = new[] { "a", "b", "A", "*", "?", @"\*", @"\?", "😀", "é" };
        var chars = new[] { "a", "b", "A", "B", "*", "?", "😀", "é", "É" };
        for (var round = 0; round < 20000; round++)
        {
            var pattern = new StringBuilder();
            var wildcards = 0;
            for (var i = random.Next(0, 9); i > 0; i--)
            {
                var atom = atoms[random.Next(atoms.Length)];
                if (atom is "*" or "?" && ++wildcards > GlobPattern.MaxWildcards)
                {
                    continue;
                }

                pattern.Append(atom);
            }

            var input = new StringBuilder();
            for (var i = random.Next(0, 12); i > 0; i--)
            {
                input.Append(chars[random.Next(chars.Length)]);
            }

            var caseSensitive = random.Next(2) == 0;
            var glob = GlobPattern.Parse(pattern.ToString(), caseSensitive);
            Assert.True(
                ReferenceMatch(pattern.ToString(), input.ToString(), caseSensitive) == glob.IsMatch(input.ToString()),
                $"pattern '{pattern}' (case-sensitive {caseSensitive}) on '{input}'");
        }
    }

    public static TheoryData<string, string> Adversarial => new()
    {
        // Classic exponential cases for backtracking matchers: many stars and a late mismatch.
        { "*a*a*a*a*a*a*a*b", new string('a', 200_000) },
        { "*a*a*a*a*a*a*b*", new string('a', 200_000) },
        { "*ab*ab*ab*ab*ab*ab*ac*", string.Concat(Enumerable.Repeat("ab", 100_000)) },
        { "a*a*a*a*a*a*a*a*b", new string('a', 200_000) },
        { "*aaaaaaaaaaaaaaaaaaaaaaaaaaaaab*", new string('a', 200_000) },
        { "????????", new string('a', 200_000) },
        { "*?*?*?*?b", new string('a', 200_000) },
        { "*" + new string('a', 3000) + "b*", new string('a', 200_000) },
        { "*" + new string('a', 3000) + "*b", new string('a', 200_000) },
    };

    [Theory]
    [MemberData(nameof(Adversarial))]
    public void IsMatch_AdversarialPattern_DoesLinearWork(string pattern, string input)
    {
        var glob = GlobPattern.Parse(pattern);
        long steps = 0;

        var matched = glob.IsMatch(input.AsSpan(), ref steps);

        Assert.False(matched);

        // One pass over the input per 64 pattern characters of the segment being searched, plus the anchors.
        var words = (pattern.Length / 64) + 1;
        Assert.InRange(steps, 0, ((long)input.Length * words) + pattern.Length + 64);
    }

    [Theory]
    [InlineData("a**b", "a*b", 2)]
    [InlineData("***", "*", 3)]
    [InlineData(@"a\*\*b", @"a\*\*b", 0)]
    [InlineData(@"a\*\**b", @"a\*\**b", 1)]
    [InlineData(@"\a\\b", @"a\\b", 0)]
    public void Parse_Canonicalizes(string pattern, string canonical, int wildcards)
    {
        var glob = GlobPattern.Parse(pattern);

        Assert.Equal(canonical, glob.Pattern);
        Assert.Equal(wildcards, glob.WildcardCount);
        Assert.Equal(glob, GlobPattern.Parse(canonical));
    }

    [Theory]
    [InlineData(@"abc\", "pattern ends with an escape character at position 3")]
    [InlineData("*?*?*?*?*", "pattern has 9 wildcards (limit 8)")]
    public void TryParse_Invalid_GivesReason(string pattern, string reason)
    {
        Assert.False(GlobPattern.TryParse(pattern, false, out var glob, out var error));

        Assert.Null(glob);
        Assert.Equal(reason, error);
        Assert.Throws<FormatException>(() => GlobPattern.Parse(pattern));
    }

    [Fact]
    public void TryParse_TooLong_Fails()
    {
        Assert.False(GlobPattern.TryParse(new string('a', GlobPattern.MaxPatternLength + 1), false, out _, out var error));
        Assert.Equal("pattern is too long: 4097 characters (limit 4096)", error);
    }

    [Theory]
    [InlineData("nginx*", "nginx%", "nginx")]
    [InlineData("a?b", "a_b", "a")]
    [InlineData(@"100%_\*x*", @"100\%\_*x%", "100%_*x")]
    [InlineData(@"a\\b", @"a\\b", @"a\b")]
    public void ToSqlLikePattern_AndLiteralPrefix(string pattern, string like, string prefix)
    {
        var glob = GlobPattern.Parse(pattern);

        Assert.Equal(like, glob.ToSqlLikePattern());
        Assert.Equal(prefix, glob.LiteralPrefix);
    }

    [Fact]
    public void Escape_MakesLiteralPattern()
    {
        var literal = @"a*b?c\d";

        var glob = GlobPattern.Parse(GlobPattern.Escape(literal));

        Assert.Equal(0, glob.WildcardCount);
        Assert.True(glob.IsMatch(literal));
        Assert.False(glob.IsMatch("axb?c\\d"));
    }

    /// <summary>
    /// Independent reference: dynamic programming over Unicode scalar values, O(n*m), obviously correct.
    /// Case folding is the invariant simple upper-case mapping, as OrdinalIgnoreCase uses.
    /// </summary>
    private static bool ReferenceMatch(string pattern, string input, bool caseSensitive)
    {
        var atoms = new List<(int Rune, char Kind)>();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c is '*' or '?')
            {
                atoms.Add((0, c));
                continue;
            }

            if (c == '\\')
            {
                i++;
            }

            var rune = char.IsSurrogatePair(pattern, i) ? char.ConvertToUtf32(pattern[i], pattern[i + 1]) : pattern[i];
            if (rune > 0xFFFF)
            {
                i++;
            }

            atoms.Add((Fold(rune, caseSensitive), 'l'));
        }

        var text = new List<int>();
        for (var i = 0; i < input.Length; i++)
        {
            if (char.IsSurrogatePair(input, i))
            {
                text.Add(Fold(char.ConvertToUtf32(input[i], input[i + 1]), caseSensitive));
                i++;
            }
            else
            {
                text.Add(Fold(input[i], caseSensitive));
            }
        }

        var match = new bool[atoms.Count + 1, text.Count + 1];
        match[0, 0] = true;
        for (var p = 1; p <= atoms.Count; p++)
        {
            for (var t = 0; t <= text.Count; t++)
            {
                var (rune, kind) = atoms[p - 1];
                match[p, t] = kind switch
                {
                    '*' => match[p - 1, t] || (t > 0 && match[p, t - 1]),
                    '?' => t > 0 && match[p - 1, t - 1],
                    _ => t > 0 && match[p - 1, t - 1] && text[t - 1] == rune,
                };
            }
        }

        return match[atoms.Count, text.Count];
    }

    private static int Fold(int rune, bool caseSensitive)
    {
        if (caseSensitive || !Rune.IsValid(rune))
        {
            return rune;
        }

        return Rune.ToUpperInvariant(new Rune(rune)).Value;
    }
}
