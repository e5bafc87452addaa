using System.Collections.Immutable;

namespace ExposureIndex.Query;

/// <summary>A range of the query text, in UTF-16 code units.</summary>
public readonly record struct TextSpan(int Start, int Length)
{
    public int End => Start + Length;

    public override string ToString() => $"[{Start}..{End})";
}

/// <summary>
/// The query AST. The set of node types is closed: <see cref="MatchAllNode"/>, <see cref="AndNode"/>,
/// <see cref="OrNode"/>, <see cref="NotNode"/>, <see cref="FilterNode"/> and <see cref="TextNode"/>; store
/// compilers switch over exactly these. Equality is structural and ignores source spans, so a query equals the
/// re-parse of its canonical text. <see cref="ToString"/> is that canonical text.
/// </summary>
/// <remarks>
/// The parser produces: <see cref="MatchAllNode"/> for an empty query; otherwise the single term, or an
/// <see cref="AndNode"/> of the terms in order. A term is a <see cref="FilterNode"/>, an <see cref="OrNode"/> of
/// <see cref="FilterNode"/>s of one filter (a comma list), or a <see cref="TextNode"/>, optionally wrapped in a
/// <see cref="NotNode"/>. Only such trees have a canonical text that parses back; any other tree prints in a
/// readable notation that the parser rejects (<c>{or: a b}</c>, <c>-{and: a b}</c>, <c>{all:}</c>), so it can
/// never be mistaken for another query.
/// </remarks>
public abstract record QueryNode
{
    private protected QueryNode()
    {
    }

    /// <summary>AND of <paramref name="terms"/>: nested ANDs are flattened and match-all terms dropped; no term gives <see cref="MatchAllNode"/>.</summary>
    /// <remarks>Use it to AND access-scoping filters into a user's query (GUIDE §3.9: they fail closed).</remarks>
    public static QueryNode AndAll(IEnumerable<QueryNode> terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        var flat = new List<QueryNode>();
        foreach (var term in terms)
        {
            ArgumentNullException.ThrowIfNull(term);
            switch (term)
            {
                case MatchAllNode:
                    break;
                case AndNode andNode:
                    flat.AddRange(andNode.Terms);
                    break;
                default:
                    flat.Add(term);
                    break;
            }
        }

        return flat.Count switch
        {
            0 => MatchAllNode.Instance,
            1 => flat[0],
            _ => new AndNode(flat),
        };
    }

    public sealed override string ToString() => QueryFormatter.Format(this);

    private protected static IReadOnlyList<QueryNode> Freeze(IReadOnlyList<QueryNode> terms, string parameter)
    {
        ArgumentNullException.ThrowIfNull(terms, parameter);
        if (terms.Count == 0)
        {
            throw new ArgumentException("a composite node needs at least one term", parameter);
        }

        var builder = ImmutableArray.CreateBuilder<QueryNode>(terms.Count);
        foreach (var term in terms)
        {
            builder.Add(term ?? throw new ArgumentException("a composite node cannot hold a null term", parameter));
        }

        return builder.MoveToImmutable();
    }

    private protected static bool SequenceEquals(IReadOnlyList<QueryNode> left, IReadOnlyList<QueryNode> right)
    {
        if (left.Count != right.Count)
        {
            return false;
        }

        for (var i = 0; i < left.Count; i++)
        {
            if (!left[i].Equals(right[i]))
            {
                return false;
            }
        }

        return true;
    }

    private protected static int SequenceHash(IReadOnlyList<QueryNode> terms)
    {
        var hash = new HashCode();
        foreach (var term in terms)
        {
            hash.Add(term);
        }

        return hash.ToHashCode();
    }
}

/// <summary>Matches every document: the empty query.</summary>
public sealed record MatchAllNode : QueryNode
{
    public static MatchAllNode Instance { get; } = new();
}

/// <summary>Every term must match (terms of a query, duplicate filters included).</summary>
public sealed record AndNode(IReadOnlyList<QueryNode> Terms) : QueryNode
{
    public IReadOnlyList<QueryNode> Terms { get; } = Freeze(Terms, nameof(Terms));

    public bool Equals(AndNode? other) => other is not null && SequenceEquals(Terms, other.Terms);

    public override int GetHashCode() => SequenceHash(Terms);
}

/// <summary>At least one term must match (a comma list such as <c>port:22,80</c>).</summary>
public sealed record OrNode(IReadOnlyList<QueryNode> Terms) : QueryNode
{
    public IReadOnlyList<QueryNode> Terms { get; } = Freeze(Terms, nameof(Terms));

    public bool Equals(OrNode? other) => other is not null && SequenceEquals(Terms, other.Terms);

    public override int GetHashCode() => SequenceHash(Terms);
}

/// <summary>The term must not match (<c>-port:22</c>, <c>-apache</c>).</summary>
public sealed record NotNode(QueryNode Term) : QueryNode
{
    public QueryNode Term { get; } = Term ?? throw new ArgumentNullException(nameof(Term));
}

/// <summary>
/// One filter with one normalized value. <see cref="Span"/> covers the whole <c>name:values</c> term (without a
/// leading <c>-</c>); <see cref="ValueSpan"/> covers this value within it. Spans are not part of equality.
/// </summary>
public sealed record FilterNode(FilterDefinition Filter, FilterValue Value, TextSpan Span) : QueryNode
{
    public FilterDefinition Filter { get; } = Filter ?? throw new ArgumentNullException(nameof(Filter));

    /// <summary>The value; its type always fits <see cref="FilterDefinition.Kind"/> (checked on construction).</summary>
    public FilterValue Value { get; } = FilterDefinition.CheckValue(Filter, Value);

    /// <summary>Where this value was written in the query text (for value-specific diagnostics).</summary>
    public TextSpan ValueSpan { get; init; }

    public bool Equals(FilterNode? other)
        => other is not null && ReferenceEquals(Filter, other.Filter) && Value.Equals(other.Value);

    public override int GetHashCode() => HashCode.Combine(Filter.Name, Value);
}

/// <summary>
/// Free text matched against the banner's <c>data</c>, case-insensitively: the words of <paramref name="Text"/>
/// (as <see cref="TextTokenizer"/> defines words) must occur in the data consecutively, exactly as for a
/// <see cref="PhraseValue"/>. <paramref name="Phrase"/> records that the text was quoted (it may then hold
/// spaces). The parser rejects text without any word (e.g. <c>***</c>). The span covers the word or the quoted
/// phrase with its quotes; it is not part of equality.
/// </summary>
public sealed record TextNode(string Text, bool Phrase, TextSpan Span) : QueryNode
{
    public string Text { get; } = string.IsNullOrEmpty(Text) ? throw new ArgumentException("free text cannot be empty", nameof(Text)) : Text;

    /// <summary>The lower-cased words to look for, per <see cref="TextTokenizer"/>.</summary>
    public IReadOnlyList<string> Words => TextTokenizer.Tokenize(Text);

    public bool Equals(TextNode? other)
        => other is not null && Phrase == other.Phrase && string.Equals(Text, other.Text, StringComparison.Ordinal);

    public override int GetHashCode() => HashCode.Combine(StringComparer.Ordinal.GetHashCode(Text), Phrase);
}
