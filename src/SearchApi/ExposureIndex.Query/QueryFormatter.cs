using System.Globalization;
using System.Text;

namespace ExposureIndex.Query;

/// <summary>
/// Canonical query text: lower-case filter names, one space between terms, values bare when they can be and
/// otherwise quoted with backslash escapes. For parser-shaped trees (see <see cref="QueryNode"/>) the text parses
/// back to an equal tree.
/// </summary>
internal static class QueryFormatter
{
    public static string Format(QueryNode node)
    {
        var builder = new StringBuilder();
        switch (node)
        {
            case MatchAllNode:
                break;
            case AndNode andNode:
                AppendJoined(builder, andNode.Terms, " ");
                break;
            default:
                AppendTerm(builder, node);
                break;
        }

        return builder.ToString();
    }

    public static string FormatValue(FilterValue value, bool requirePrefix) => value switch
    {
        KeywordValue keyword => QuoteIfNeeded(keyword.Value),
        WildcardValue wildcard => FormatGlob(wildcard.Pattern.Pattern),
        PhraseValue phrase => QuoteIfNeeded(phrase.Text),
        IntegerValue integer => integer.Value.ToString(CultureInfo.InvariantCulture),
        NetworkValue network => requirePrefix || !network.IsSingleAddress ? network.ToCidrString() : network.Network.ToString(),
        DateValue date => FormatDate(date.Value),
        BooleanValue boolean => boolean.Value ? "true" : "false",
        _ => throw new ArgumentException($"unknown filter value type {value.GetType().Name}", nameof(value)),
    };

    internal static string FormatDate(DateTimeOffset value)
    {
        var utc = value.UtcDateTime;
        return utc.TimeOfDay == TimeSpan.Zero
            ? utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
    }

    private static void AppendTerm(StringBuilder builder, QueryNode node)
    {
        switch (node)
        {
            case FilterNode filter:
                builder.Append(filter.Filter.Name).Append(':').Append(FormatValue(filter.Value, filter.Filter.RequiresPrefix));
                break;

            case OrNode orNode when IsValueList(orNode, out var definition):
                builder.Append(definition.Name).Append(':');
                for (var i = 0; i < orNode.Terms.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',');
                    }

                    builder.Append(FormatValue(((FilterNode)orNode.Terms[i]).Value, definition.RequiresPrefix));
                }

                break;

            case TextNode text:
                AppendText(builder, text);
                break;

            case NotNode notNode:
                builder.Append('-');
                AppendTerm(builder, notNode.Term);
                break;

            // The forms below never come out of the parser. They print in a notation the parser rejects
            // ('{or' is not a filter name), so such text can never be misread as a different query.
            case OrNode orNode:
                builder.Append("{or: ");
                AppendJoined(builder, orNode.Terms, " ");
                builder.Append('}');
                break;

            case AndNode andNode:
                builder.Append("{and: ");
                AppendJoined(builder, andNode.Terms, " ");
                builder.Append('}');
                break;

            case MatchAllNode:
                builder.Append("{all:}");
                break;

            default:
                throw new ArgumentException($"unknown query node type {node.GetType().Name}", nameof(node));
        }
    }

    private static void AppendJoined(StringBuilder builder, IReadOnlyList<QueryNode> terms, string separator)
    {
        for (var i = 0; i < terms.Count; i++)
        {
            if (i > 0)
            {
                builder.Append(separator);
            }

            AppendTerm(builder, terms[i]);
        }
    }

    private static bool IsValueList(OrNode orNode, out FilterDefinition definition)
    {
        definition = null!;
        foreach (var term in orNode.Terms)
        {
            if (term is not FilterNode filter || (definition is not null && !ReferenceEquals(definition, filter.Filter)))
            {
                return false;
            }

            definition = filter.Filter;
        }

        return definition is not null;
    }

    private static void AppendText(StringBuilder builder, TextNode text)
    {
        var bare = !text.Phrase
            && text.Text[0] != '-'
            && !text.Text.Any(c => char.IsWhiteSpace(c) || c is '"' or ':');
        if (bare)
        {
            builder.Append(text.Text);
            return;
        }

        builder.Append('"');
        foreach (var c in text.Text)
        {
            if (c is '"' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        builder.Append('"');
    }

    private static string QuoteIfNeeded(string value)
    {
        if (!value.Any(c => char.IsWhiteSpace(c) || c is '"' or ',' or '*' or '?' or '\\'))
        {
            return value;
        }

        var builder = new StringBuilder(value.Length + 8).Append('"');
        foreach (var c in value)
        {
            if (c is '"' or ',' or '*' or '?' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.Append('"').ToString();
    }

    private static string FormatGlob(string pattern)
    {
        if (!pattern.Any(c => char.IsWhiteSpace(c) || c is '"' or ',' or '\\'))
        {
            return pattern;
        }

        // Inside quotes the glob's own escapes (\* \? \\) read the same; quotes and commas need one more.
        var builder = new StringBuilder(pattern.Length + 8).Append('"');
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\')
            {
                builder.Append(c).Append(pattern[++i]);
                continue;
            }

            if (c is '"' or ',')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.Append('"').ToString();
    }
}
