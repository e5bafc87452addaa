using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace ExposureIndex.Query;

/// <summary>
/// Parses Shodan's query syntax into the AST: <c>filter:value</c> terms (values quoted with backslash escapes,
/// comma OR-lists), <c>-</c> negation, and free text against the banner data, all AND-ed. Unknown filters and
/// malformed values are errors with positions, never ignored (GUIDE §3.9). Work is bounded by
/// <see cref="QueryLimits"/>. Pure: no I/O, no clock.
/// </summary>
public static class QueryParser
{
    /// <summary>Parses with <see cref="FilterCatalog.Default"/>; throws <see cref="QueryException"/> on any error.</summary>
    public static ParsedQuery Parse(string text) => Parse(text, FilterCatalog.Default);

    /// <summary>Parses with <paramref name="catalog"/>; throws <see cref="QueryException"/> on any error.</summary>
    public static ParsedQuery Parse(string text, FilterCatalog catalog)
    {
        if (!TryParse(text, catalog, out var query, out var error))
        {
            throw new QueryException(error);
        }

        return query;
    }

    /// <summary>Parses with <see cref="FilterCatalog.Default"/>; an invalid query is a miss with its first error (leftmost).</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out ParsedQuery? query, [NotNullWhen(false)] out QueryError? error)
        => TryParse(text, FilterCatalog.Default, out query, out error);

    /// <summary>Parses with <paramref name="catalog"/>; an invalid query is a miss with its first error.</summary>
    public static bool TryParse(string text, FilterCatalog catalog, [NotNullWhen(true)] out ParsedQuery? query, [NotNullWhen(false)] out QueryError? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(catalog);
        query = null;
        if (!TryCheckInput(text, out error))
        {
            return false;
        }

        var lexer = new QueryLexer(text);
        var terms = new List<QueryNode>();
        while (true)
        {
            if (!lexer.TryNext(out var token, out error))
            {
                return false;
            }

            if (token.Kind == TokenKind.End)
            {
                break;
            }

            if (terms.Count == QueryLimits.MaxTerms)
            {
                error = new QueryError($"too many terms at position {token.Start} (limit {QueryLimits.MaxTerms})", token.Start, token.Length, null);
                return false;
            }

            var negated = token.Kind == TokenKind.Minus;
            if (negated && !lexer.TryNext(out token, out error))
            {
                return false;
            }

            if (token.Kind is TokenKind.Word or TokenKind.Phrase && !TextTokenizer.HasWord(token.Text))
            {
                error = new QueryError(
                    $"free text '{QueryLexer.Excerpt(token.Text)}' at position {token.Start} has no searchable word (letters or digits)",
                    token.Start,
                    token.Length,
                    null);
                return false;
            }

            QueryNode term;
            switch (token.Kind)
            {
                case TokenKind.Word:
                    term = new TextNode(token.Text, Phrase: false, new TextSpan(token.Start, token.Length));
                    break;
                case TokenKind.Phrase:
                    term = new TextNode(token.Text, Phrase: true, new TextSpan(token.Start, token.Length));
                    break;
                case TokenKind.FilterName:
                    if (!TryParseFilterTerm(lexer, token, catalog, out term!, out error))
                    {
                        return false;
                    }

                    break;
                default:
                    // The lexer only yields a term start here; anything else is a lexer bug, reported as such.
                    throw new InvalidOperationException($"query lexer produced {token.Kind} at position {token.Start} where a term was expected");
            }

            terms.Add(negated ? new NotNode(term) : term);
        }

        var root = terms.Count switch
        {
            0 => (QueryNode)MatchAllNode.Instance,
            1 => terms[0],
            _ => new AndNode(terms),
        };
        query = new ParsedQuery(root, text);
        return true;
    }

    /// <summary>
    /// Input-level checks before lexing: the length limit, then control characters and unpaired surrogates
    /// (tab, CR and LF are whitespace; every other C0/C1 control and DEL is rejected).
    /// </summary>
    internal static bool TryCheckInput(string text, [NotNullWhen(false)] out QueryError? error)
    {
        if (text.Length > QueryLimits.MaxQueryLength)
        {
            error = new QueryError(
                $"query is too long at position {QueryLimits.MaxQueryLength}: {text.Length} characters (limit {QueryLimits.MaxQueryLength})",
                QueryLimits.MaxQueryLength,
                text.Length - QueryLimits.MaxQueryLength,
                null);
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsControl(c) && c is not ('\t' or '\n' or '\r'))
            {
                error = new QueryError($"control character U+{(int)c:X4} at position {i}", i, 1, null);
                return false;
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }

            if (char.IsSurrogate(c))
            {
                error = new QueryError($"unpaired surrogate U+{(int)c:X4} at position {i} (the text is not valid UTF-16)", i, 1, null);
                return false;
            }
        }

        error = null;
        return true;
    }

    private static bool TryParseFilterTerm(QueryLexer lexer, Token nameToken, FilterCatalog catalog, out QueryNode? term, [NotNullWhen(false)] out QueryError? error)
    {
        term = null;
        var name = nameToken.Text;
        if (!catalog.TryGet(name, out var filter))
        {
            var suggestion = catalog.Suggest(name);
            var hint = suggestion is not null
                ? $" (did you mean '{suggestion}'?)"
                : " (to search for text containing ':', put it in quotes)";
            error = new QueryError($"unknown filter '{QueryLexer.Excerpt(name)}' at position {nameToken.Start}{hint}", nameToken.Start, name.Length, name);
            return false;
        }

        if (!lexer.TryNext(out var valueToken, out error))
        {
            return false;
        }

        var items = valueToken.Items;
        if (items.Count == 0 || (items.Count == 1 && items[0].Text.Length == 0))
        {
            error = new QueryError($"missing value for filter '{filter.Name}' at position {nameToken.Start}", nameToken.Start, nameToken.Length + valueToken.Length, filter.Name);
            return false;
        }

        var span = new TextSpan(nameToken.Start, valueToken.Start + valueToken.Length - nameToken.Start);
        var nodes = new List<QueryNode>(items.Count);
        foreach (var item in items)
        {
            if (item.Text.Length == 0)
            {
                error = new QueryError($"empty value in the list for filter '{filter.Name}' at position {item.Start}", item.Start, item.Length, filter.Name);
                return false;
            }

            if (!ValueParser.TryParse(filter, item, out var value, out var reason))
            {
                error = new QueryError(
                    string.Create(CultureInfo.InvariantCulture, $"invalid value '{QueryLexer.Excerpt(item.Text)}' for filter '{filter.Name}' at position {item.Start}: {reason}"),
                    item.Start,
                    item.Length,
                    filter.Name);
                return false;
            }

            nodes.Add(new FilterNode(filter, value, span) { ValueSpan = new TextSpan(item.Start, item.Length) });
        }

        term = nodes.Count == 1 ? nodes[0] : new OrNode(nodes);
        error = null;
        return true;
    }
}
