using System.Globalization;
using System.Text;

namespace ExposureIndex.Query;

internal enum TokenKind
{
    End,
    Minus,
    Word,
    Phrase,
    FilterName,
    Value,
}

/// <summary>
/// One token. For <see cref="TokenKind.FilterName"/>, <see cref="Length"/> includes the colon and
/// <see cref="Text"/> is the name as typed. For <see cref="TokenKind.Value"/>, <see cref="Items"/> holds the
/// comma-separated values (possibly none when nothing follows the colon).
/// </summary>
internal readonly record struct Token(TokenKind Kind, int Start, int Length, string Text, IReadOnlyList<RawValue> Items);

/// <summary>
/// One value of a filter as written, before typing: <see cref="Text"/> is the unescaped text (trimmed), and
/// <see cref="GlobSource"/> the same text in <see cref="GlobPattern"/> syntax, where only unescaped <c>*</c> and
/// <c>?</c> are wildcards.
/// </summary>
internal sealed record RawValue(string Text, string GlobSource, int WildcardCount, int Start, int Length)
{
    public static RawValue FromUnquoted(string text)
    {
        var chars = new List<(char Char, bool Raw)>(text.Length);
        foreach (var c in text)
        {
            chars.Add((c, true));
        }

        return Build(chars, 0, text.Length);
    }

    public static RawValue Build(List<(char Char, bool Raw)> chars, int start, int length)
    {
        var first = 0;
        var last = chars.Count - 1;
        while (first <= last && char.IsWhiteSpace(chars[first].Char))
        {
            first++;
        }

        while (last >= first && char.IsWhiteSpace(chars[last].Char))
        {
            last--;
        }

        var text = new StringBuilder(Math.Max(0, last - first + 1));
        var glob = new StringBuilder(Math.Max(0, last - first + 1));
        var wildcards = 0;
        for (var i = first; i <= last; i++)
        {
            var (c, raw) = chars[i];
            text.Append(c);
            if (raw && c is '*' or '?')
            {
                wildcards++;
            }
            else if (c is '*' or '?' or '\\')
            {
                glob.Append('\\');
            }

            glob.Append(c);
        }

        return new RawValue(text.ToString(), glob.ToString(), wildcards, start, length);
    }
}

/// <summary>
/// Splits query text into tokens, left to right, in one pass. The grammar (Shodan's):
/// <code>
/// query   = { ws } [ term { ws { ws } term } ] { ws }
/// term    = [ "-" ] ( filter | phrase | word )      ; "-" only at the start of a term; never "--"
/// filter  = name ":" value                           ; name = the characters before the first ':' of a bare token
/// value   = item { "," item }                        ; ',' splits inside quotes too, unless escaped
/// item    = { bare-char | '"' { qchar | "\" any } '"' }
/// phrase  = '"' { qchar | "\" any } '"'              ; must be followed by whitespace or the end
/// word    = bare-char { bare-char }                  ; no '"' and no ':'
/// </code>
/// Outside quotes a backslash is an ordinary character. Unescaped <c>*</c> and <c>?</c> in a value are wildcards,
/// quoted or not. Input-level checks (length, control characters) happen before lexing, in <see cref="QueryParser"/>.
/// </summary>
internal sealed class QueryLexer
{
    private static readonly IReadOnlyList<RawValue> NoItems = [];

    private readonly string _text;
    private int _position;
    private bool _expectValue;
    private bool _afterMinus;
    private string _filterName = string.Empty;

    public QueryLexer(string text)
    {
        _text = text;
    }

    public bool TryNext(out Token token, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out QueryError? error)
    {
        if (_expectValue)
        {
            _expectValue = false;
            return TryLexValue(out token, out error);
        }

        error = null;
        if (!_afterMinus)
        {
            while (_position < _text.Length && IsSeparator(_text[_position]))
            {
                _position++;
            }
        }

        if (_position >= _text.Length)
        {
            token = new Token(TokenKind.End, _text.Length, 0, string.Empty, NoItems);
            return true;
        }

        var start = _position;
        var c = _text[start];
        if (!_afterMinus && c == '-')
        {
            if (start + 1 >= _text.Length || IsSeparator(_text[start + 1]))
            {
                return Fail(out token, out error, $"dangling '-' at position {start} (a '-' negates the term written right after it)", start, 1);
            }

            if (_text[start + 1] == '-')
            {
                return Fail(out token, out error, $"unexpected '-' at position {start + 1} (a term can be negated only once)", start + 1, 1);
            }

            _position++;
            _afterMinus = true;
            token = new Token(TokenKind.Minus, start, 1, "-", NoItems);
            return true;
        }

        _afterMinus = false;
        if (c == '"')
        {
            return TryLexPhrase(out token, out error);
        }

        var end = start;
        while (end < _text.Length && !IsSeparator(_text[end]) && _text[end] != '"' && _text[end] != ':')
        {
            end++;
        }

        if (end < _text.Length && _text[end] == ':')
        {
            if (end == start)
            {
                return Fail(out token, out error, $"missing filter name before ':' at position {end}", end, 1);
            }

            _filterName = _text[start..end];
            _position = end + 1;
            _expectValue = true;
            token = new Token(TokenKind.FilterName, start, end + 1 - start, _filterName, NoItems);
            return true;
        }

        if (end < _text.Length && _text[end] == '"')
        {
            return Fail(out token, out error, $"unexpected '\"' at position {end} (put the whole phrase in quotes)", end, 1);
        }

        _position = end;
        token = new Token(TokenKind.Word, start, end - start, _text[start..end], NoItems);
        return true;
    }

    internal static bool IsSeparator(char c) => char.IsWhiteSpace(c);

    internal static string CollapseWhitespace(string text)
    {
        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    private bool TryLexPhrase(out Token token, out QueryError? error)
    {
        var start = _position;
        var content = new StringBuilder();
        var k = start + 1;
        while (true)
        {
            if (k >= _text.Length)
            {
                return Fail(out token, out error, $"unterminated quote at position {start}", start, _text.Length - start);
            }

            var c = _text[k];
            if (c == '\\')
            {
                if (k + 1 >= _text.Length)
                {
                    return Fail(out token, out error, $"unterminated quote at position {start}", start, _text.Length - start);
                }

                content.Append(_text[k + 1]);
                k += 2;
                continue;
            }

            k++;
            if (c == '"')
            {
                break;
            }

            content.Append(c);
        }

        if (k < _text.Length && !IsSeparator(_text[k]))
        {
            return Fail(out token, out error, $"expected whitespace after the closing quote at position {k}", k, 1);
        }

        var phrase = CollapseWhitespace(content.ToString());
        if (phrase.Length == 0)
        {
            return Fail(out token, out error, $"empty phrase at position {start}", start, k - start);
        }

        _position = k;
        token = new Token(TokenKind.Phrase, start, k - start, phrase, NoItems);
        error = null;
        return true;
    }

    private bool TryLexValue(out Token token, out QueryError? error)
    {
        var start = _position;
        var items = new List<RawValue>();
        var chars = new List<(char Char, bool Raw)>();
        var itemStart = start;
        var inQuote = false;
        var quoteStart = -1;
        var k = start;
        while (true)
        {
            if (k >= _text.Length)
            {
                if (inQuote)
                {
                    return Fail(out token, out error, $"unterminated quote at position {quoteStart}", quoteStart, _text.Length - quoteStart, _filterName);
                }

                break;
            }

            var c = _text[k];
            if (inQuote)
            {
                if (c == '\\')
                {
                    if (k + 1 >= _text.Length)
                    {
                        return Fail(out token, out error, $"unterminated quote at position {quoteStart}", quoteStart, _text.Length - quoteStart, _filterName);
                    }

                    // Escaped characters are literal: never a separator, a quote or a wildcard.
                    chars.Add((_text[k + 1], false));
                    k += 2;
                    continue;
                }

                if (c == '"')
                {
                    inQuote = false;
                    k++;
                    continue;
                }
            }
            else
            {
                if (IsSeparator(c))
                {
                    break;
                }

                if (c == '"')
                {
                    inQuote = true;
                    quoteStart = k;
                    k++;
                    continue;
                }
            }

            if (c == ',')
            {
                // Shodan splits OR-lists at every comma, quoted or not ("San Diego,Austin" is two cities).
                items.Add(RawValue.Build(chars, itemStart, k - itemStart));
                chars.Clear();
                k++;
                itemStart = k;
                if (items.Count >= QueryLimits.MaxListValues)
                {
                    return Fail(out token, out error, $"too many values for filter '{Excerpt(_filterName)}' at position {itemStart} (limit {QueryLimits.MaxListValues})", itemStart, Math.Min(1, _text.Length - itemStart), _filterName);
                }

                continue;
            }

            chars.Add((c, true));
            k++;
        }

        if (k > start)
        {
            items.Add(RawValue.Build(chars, itemStart, k - itemStart));
        }

        _position = k;
        token = new Token(TokenKind.Value, start, k - start, _text[start..k], items);
        error = null;
        return true;
    }

    /// <summary>
    /// Text quoted in an error message: at most 40 characters (never splitting a surrogate pair), with tab, CR
    /// and LF written as escapes so that messages stay on one line and free of control characters.
    /// </summary>
    internal static string Excerpt(string text)
    {
        const int Max = 40;
        var cut = text.Length;
        if (text.Length > Max)
        {
            cut = char.IsHighSurrogate(text[Max - 1]) ? Max - 1 : Max;
        }

        var builder = new StringBuilder(cut + 8);
        foreach (var c in text.AsSpan(0, cut))
        {
            _ = c switch
            {
                '\t' => builder.Append("\\t"),
                '\r' => builder.Append("\\r"),
                '\n' => builder.Append("\\n"),
                _ when char.IsControl(c) => builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => builder.Append(c),
            };
        }

        if (cut < text.Length)
        {
            builder.Append("...");
        }

        return builder.ToString();
    }

    private static bool Fail(out Token token, out QueryError? error, string message, int position, int length, string? filter = null)
    {
        token = default;
        error = new QueryError(message, position, length, filter);
        return false;
    }
}
