using System.Globalization;
using System.Text;

namespace ExposureIndex.Crawler.Fingerprinting.Probes;

/// <summary>
/// Rewrites the PCRE syntax of probe files into .NET regex syntax with the same meaning over Latin-1-mapped bytes
/// (each byte is one char 0-255). PCRE without UTF/UCP gives \d, \w and \s their ASCII meaning while .NET's are
/// Unicode-aware (\w would match 'é' = 0xE9), so those become explicit ASCII classes. Also: \0 and octal escapes,
/// \x{HH}, \Q...\E, POSIX classes ([:alpha:]), a ']' first in a class, (?P&lt;name&gt;, possessive quantifiers
/// (as atomic groups), and PCRE's \h and \v classes. Anything else is passed through unchanged.
/// </summary>
internal static class PcreTranslator
{
    private const string Word = "a-zA-Z0-9_";
    private const string NotWordInClass = "\\x00-/:-@\\[-^`{-\\xff";
    private const string Digit = "0-9";
    private const string NotDigitInClass = "\\x00-/:-\\xff";
    private const string Space = "\\t\\n\\x0b\\f\\r ";
    private const string NotSpaceInClass = "\\x00-\\x08\\x0e-\\x1f!-\\xff";

    private static readonly Dictionary<string, string> PosixClasses = new(StringComparer.Ordinal)
    {
        ["alpha"] = "a-zA-Z",
        ["digit"] = "0-9",
        ["alnum"] = "a-zA-Z0-9",
        ["upper"] = "A-Z",
        ["lower"] = "a-z",
        ["space"] = Space,
        ["blank"] = "\\t ",
        ["xdigit"] = "0-9A-Fa-f",
        ["punct"] = "!-/:-@\\[-`{-~",
        ["print"] = " -~",
        ["graph"] = "!-~",
        ["cntrl"] = "\\x00-\\x1f\\x7f",
        ["word"] = Word,
        ["ascii"] = "\\x00-\\x7f",
    };

    public static bool TryTranslate(string pattern, out string translated, out string? error)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var sb = new StringBuilder(pattern.Length + 16);
        var groupStarts = new Stack<int>();
        var lastAtom = -1;
        var afterQuantifier = false;
        error = null;
        translated = string.Empty;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            var atomStart = sb.Length;
            var quantifier = false;
            switch (c)
            {
                case '\\':
                    if (i + 1 >= pattern.Length)
                    {
                        error = "the pattern ends with a lone backslash";
                        return false;
                    }

                    if (pattern[i + 1] == 'Q')
                    {
                        var end = pattern.IndexOf("\\E", i + 2, StringComparison.Ordinal);
                        var literal = end < 0 ? pattern[(i + 2)..] : pattern[(i + 2)..end];
                        AppendLiteral(sb, literal);
                        i = end < 0 ? pattern.Length : end + 1;
                        break;
                    }

                    if (!TryEscape(pattern, ref i, sb, inClass: false, out error))
                    {
                        return false;
                    }

                    break;
                case '[':
                    if (!TryClass(pattern, ref i, sb, out error))
                    {
                        return false;
                    }

                    break;
                case '(':
                    groupStarts.Push(sb.Length);
                    if (pattern.AsSpan(i).StartsWith("(?P<"))
                    {
                        sb.Append("(?<");
                        i += 3;
                    }
                    else if (pattern.AsSpan(i).StartsWith("(?P=") && pattern.IndexOf(')', i) is var close and > 0)
                    {
                        // Named back-reference.
                        sb.Append("\\k<").Append(pattern, i + 4, close - i - 4).Append('>');
                        groupStarts.Pop();
                        i = close;
                    }
                    else
                    {
                        sb.Append('(');
                    }

                    lastAtom = -1;
                    afterQuantifier = false;
                    continue;
                case ')':
                    sb.Append(')');
                    atomStart = groupStarts.Count > 0 ? groupStarts.Pop() : atomStart;
                    break;
                case '*' or '+' or '?':
                    if (afterQuantifier && c == '+')
                    {
                        // Possessive: X*+ is the atomic (?>X*).
                        if (lastAtom >= 0)
                        {
                            sb.Insert(lastAtom, "(?>").Append(')');
                        }

                        afterQuantifier = false;
                        continue;
                    }

                    if (afterQuantifier && c == '?')
                    {
                        sb.Append('?'); // lazy
                        afterQuantifier = false;
                        continue;
                    }

                    sb.Append(c);
                    quantifier = true;
                    break;
                case '{':
                    var closeBrace = pattern.IndexOf('}', i);
                    if (closeBrace > i && IsCounted(pattern.AsSpan(i + 1, closeBrace - i - 1)))
                    {
                        sb.Append(pattern, i, closeBrace - i + 1);
                        i = closeBrace;
                        quantifier = true;
                    }
                    else
                    {
                        sb.Append("\\{");
                    }

                    break;
                case '}':
                    sb.Append("\\}");
                    break;
                default:
                    sb.Append(c);
                    break;
            }

            if (quantifier)
            {
                afterQuantifier = true;
            }
            else
            {
                afterQuantifier = false;
                lastAtom = atomStart;
            }
        }

        translated = sb.ToString();
        return true;
    }

    private static bool IsCounted(ReadOnlySpan<char> inner)
    {
        // {n}, {n,}, {n,m}
        var comma = inner.IndexOf(',');
        var first = comma < 0 ? inner : inner[..comma];
        if (first.IsEmpty || !IsDigits(first))
        {
            return false;
        }

        return comma < 0 || inner[(comma + 1)..].IsEmpty || IsDigits(inner[(comma + 1)..]);
    }

    private static bool IsDigits(ReadOnlySpan<char> text)
    {
        foreach (var ch in text)
        {
            if (!char.IsAsciiDigit(ch))
            {
                return false;
            }
        }

        return true;
    }

    private static void AppendLiteral(StringBuilder sb, string literal)
    {
        foreach (var ch in literal)
        {
            AppendChar(sb, ch, inClass: false);
        }
    }

    private static void AppendChar(StringBuilder sb, int value, bool inClass)
    {
        var ch = (char)value;
        if (char.IsAsciiLetterOrDigit(ch) || ch == '_' || (ch >= 0x20 && ch < 0x7F && !"\\^$.|?*+()[]{}-#/ ".Contains(ch, StringComparison.Ordinal)))
        {
            sb.Append(ch);
        }
        else if (value <= 0xFF)
        {
            sb.Append("\\x").Append(value.ToString("x2", CultureInfo.InvariantCulture));
        }
        else
        {
            sb.Append("\\u").Append(value.ToString("x4", CultureInfo.InvariantCulture));
        }

        _ = inClass;
    }

    /// <summary>Translates the escape starting at pattern[i] ('\\'); leaves i on its last char.</summary>
    private static bool TryEscape(string pattern, ref int i, StringBuilder sb, bool inClass, out string? error)
    {
        error = null;
        var e = pattern[++i];
        switch (e)
        {
            case 'd': sb.Append(inClass ? Digit : "[0-9]"); return true;
            case 'w': sb.Append(inClass ? Word : "[a-zA-Z0-9_]"); return true;
            case 's': sb.Append(inClass ? Space : "[\\t\\n\\x0b\\f\\r ]"); return true;
            case 'D': sb.Append(inClass ? NotDigitInClass : "[^0-9]"); return true;
            case 'W': sb.Append(inClass ? NotWordInClass : "[^a-zA-Z0-9_]"); return true;
            case 'S': sb.Append(inClass ? NotSpaceInClass : "[^\\t\\n\\x0b\\f\\r ]"); return true;
            case 'h': sb.Append(inClass ? "\\t \\xa0" : "[\\t \\xa0]"); return true;
            case 'H': sb.Append(inClass ? "\\x00-\\x08\\x0a-\\x1f!-\\x9f\\xa1-\\xff" : "[^\\t \\xa0]"); return true;
            case 'v': sb.Append(inClass ? "\\n\\x0b\\f\\r\\x85" : "[\\n\\x0b\\f\\r\\x85]"); return true;
            case 'V': sb.Append(inClass ? "\\x00-\\x09\\x0e-\\x84\\x86-\\xff" : "[^\\n\\x0b\\f\\r\\x85]"); return true;
            case 'x':
                if (i + 1 < pattern.Length && pattern[i + 1] == '{')
                {
                    var close = pattern.IndexOf('}', i + 2);
                    if (close < 0 || !int.TryParse(pattern.AsSpan(i + 2, close - i - 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var big) || big > 0xFFFF)
                    {
                        error = $"bad \\x{{...}} escape at column {i}";
                        return false;
                    }

                    AppendChar(sb, big, inClass);
                    i = close;
                    return true;
                }

                // \xH or \xHH (PCRE takes up to two hex digits; .NET requires exactly two).
                var digits = 0;
                while (digits < 2 && i + 1 + digits < pattern.Length && char.IsAsciiHexDigit(pattern[i + 1 + digits]))
                {
                    digits++;
                }

                var hex = digits == 0 ? 0 : int.Parse(pattern.AsSpan(i + 1, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                AppendChar(sb, hex, inClass);
                i += digits;
                return true;
            case '0':
                // \0 followed by up to two more octal digits.
                var value = 0;
                var n = 0;
                while (n < 2 && i + 1 < pattern.Length && pattern[i + 1] is >= '0' and <= '7')
                {
                    value = (value * 8) + (pattern[++i] - '0');
                    n++;
                }

                AppendChar(sb, value, inClass);
                return true;
            case >= '1' and <= '9':
                if (inClass)
                {
                    // Inside a class a digit escape is octal in PCRE.
                    var octal = e - '0';
                    while (i + 1 < pattern.Length && pattern[i + 1] is >= '0' and <= '7' && octal < 32)
                    {
                        octal = (octal * 8) + (pattern[++i] - '0');
                    }

                    AppendChar(sb, octal, inClass);
                    return true;
                }

                sb.Append('\\').Append(e); // back-reference
                return true;
            case 'n' or 'r' or 't' or 'f' or 'e' or 'a' or 'b' or 'B' or 'A' or 'z' or 'Z' or 'G':
                if (inClass && e == 'b')
                {
                    sb.Append("\\x08");
                    return true;
                }

                sb.Append('\\').Append(e);
                return true;
            case 'c':
                if (i + 1 < pattern.Length)
                {
                    AppendChar(sb, char.ToUpperInvariant(pattern[++i]) ^ 0x40, inClass);
                    return true;
                }

                error = "\\c at the end of the pattern";
                return false;
            default:
                if (char.IsAsciiLetter(e))
                {
                    error = $"unsupported escape \\{e} at column {i}";
                    return false;
                }

                // Escaped punctuation (or a byte above 0x7F) is that literal character.
                AppendChar(sb, e, inClass);
                return true;
        }
    }

    /// <summary>Translates the class starting at pattern[i] ('['); leaves i on its closing ']'.</summary>
    private static bool TryClass(string pattern, ref int i, StringBuilder sb, out string? error)
    {
        error = null;
        sb.Append('[');
        var j = i + 1;
        if (j < pattern.Length && pattern[j] == '^')
        {
            sb.Append('^');
            j++;
        }

        var first = true;
        // PCRE reads '-' literally after a class escape (\w-) or right after a range (a-z-); .NET would not.
        var canStartRange = false;
        var inRange = false;
        for (; j < pattern.Length; j++)
        {
            var c = pattern[j];
            if (c == ']' && !first)
            {
                sb.Append(']');
                i = j;
                return true;
            }

            first = false;
            var single = true;
            switch (c)
            {
                case ']':
                    sb.Append("\\]");
                    break;
                case '\\':
                    if (j + 1 >= pattern.Length)
                    {
                        error = "unterminated character class";
                        return false;
                    }

                    var before = sb.Length;
                    if (!TryEscape(pattern, ref j, sb, inClass: true, out error))
                    {
                        return false;
                    }

                    // A class escape (\w, \d ...) expands to several members and cannot bound a range.
                    single = pattern[j] is not ('d' or 'w' or 's' or 'D' or 'W' or 'S' or 'h' or 'H' or 'v' or 'V') || pattern[j - 1] != '\\';
                    _ = before;
                    break;
                case '[':
                    if (j + 1 < pattern.Length && pattern[j + 1] == ':')
                    {
                        var close = pattern.IndexOf(":]", j + 2, StringComparison.Ordinal);
                        if (close > 0)
                        {
                            var name = pattern[(j + 2)..close];
                            if (PosixClasses.TryGetValue(name, out var members))
                            {
                                sb.Append(members);
                                j = close + 1;
                                single = false;
                                break;
                            }

                            error = $"unsupported POSIX class [:{name}:]";
                            return false;
                        }
                    }

                    sb.Append("\\[");
                    break;
                case '-':
                    if (canStartRange && !inRange && j + 1 < pattern.Length && pattern[j + 1] != ']')
                    {
                        sb.Append('-');
                        inRange = true;
                        canStartRange = false;
                        continue;
                    }

                    sb.Append("\\-");
                    break;
                default:
                    if (c > 0x7E || c < 0x20)
                    {
                        AppendChar(sb, c, inClass: true);
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }

            if (inRange)
            {
                // That member closed a range: a following '-' is literal.
                inRange = false;
                canStartRange = false;
            }
            else
            {
                canStartRange = single;
            }
        }

        error = "unterminated character class";
        return false;
    }
}
