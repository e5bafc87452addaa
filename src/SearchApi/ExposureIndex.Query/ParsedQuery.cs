namespace ExposureIndex.Query;

/// <summary>
/// A parsed query: the AST and the text it came from, plus what Shodan's <c>/shodan/host/search/tokens</c> reports
/// (<c>{attributes:{ports:[..]}, errors:[], string:"free text", filters:[..]}</c>): <see cref="Ports"/>,
/// <see cref="FreeText"/> and <see cref="FilterNames"/>. Two instances are equal when their roots are equal
/// (structurally) and their texts are identical.
/// </summary>
public sealed record ParsedQuery(QueryNode Root, string Text)
{
    private Summary? _summary;

    public QueryNode Root { get; } = Root ?? throw new ArgumentNullException(nameof(Root));

    public string Text { get; } = Text ?? throw new ArgumentNullException(nameof(Text));

    /// <summary>True for the empty query.</summary>
    public bool IsMatchAll => Root is MatchAllNode;

    /// <summary>The canonical text of <see cref="Root"/> (see <see cref="QueryNode"/>).</summary>
    public string Canonical => Root.ToString();

    /// <summary>The distinct filters used anywhere in the query (negated or not), in order of first appearance.</summary>
    public IReadOnlyList<FilterDefinition> Filters => GetSummary().Filters;

    /// <summary>The names of <see cref="Filters"/> (Shodan's <c>filters</c> token list).</summary>
    public IReadOnlyList<string> FilterNames => GetSummary().FilterNames;

    /// <summary>The free-text terms in order: <see cref="TextNode"/>s, and <see cref="NotNode"/>s wrapping the negated ones.</summary>
    public IReadOnlyList<QueryNode> FreeTextTerms => GetSummary().FreeTextTerms;

    /// <summary>The free-text terms as canonical text, space-separated (Shodan's <c>string</c> token); empty when there are none.</summary>
    public string FreeText => GetSummary().FreeText;

    /// <summary>The distinct ports the query asks for (non-negated <c>port</c> values), in order (Shodan's <c>attributes.ports</c>).</summary>
    public IReadOnlyList<int> Ports => GetSummary().Ports;

    public bool Equals(ParsedQuery? other)
        => other is not null && Root.Equals(other.Root) && string.Equals(Text, other.Text, StringComparison.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Root, StringComparer.Ordinal.GetHashCode(Text));

    public override string ToString() => Canonical;

    private Summary GetSummary() => _summary ??= Summary.Of(Root);

    private sealed record Summary(
        IReadOnlyList<FilterDefinition> Filters,
        IReadOnlyList<string> FilterNames,
        IReadOnlyList<QueryNode> FreeTextTerms,
        string FreeText,
        IReadOnlyList<int> Ports)
    {
        public static Summary Of(QueryNode root)
        {
            var filters = new List<FilterDefinition>();
            var freeText = new List<QueryNode>();
            var ports = new List<int>();
            Visit(root, negated: false, filters, freeText, ports);
            return new Summary(
                filters,
                [.. filters.Select(f => f.Name)],
                freeText,
                string.Join(' ', freeText.Select(t => t.ToString())),
                ports);
        }

        private static void Visit(QueryNode node, bool negated, List<FilterDefinition> filters, List<QueryNode> freeText, List<int> ports)
        {
            switch (node)
            {
                case AndNode andNode:
                    foreach (var term in andNode.Terms)
                    {
                        Visit(term, negated, filters, freeText, ports);
                    }

                    break;
                case OrNode orNode:
                    foreach (var term in orNode.Terms)
                    {
                        Visit(term, negated, filters, freeText, ports);
                    }

                    break;
                case NotNode { Term: TextNode } notNode:
                    freeText.Add(negated ? notNode.Term : notNode);
                    break;
                case NotNode notNode:
                    Visit(notNode.Term, !negated, filters, freeText, ports);
                    break;
                case TextNode text:
                    freeText.Add(negated ? new NotNode(text) : text);
                    break;
                case FilterNode filter:
                    if (!filters.Contains(filter.Filter))
                    {
                        filters.Add(filter.Filter);
                    }

                    if (!negated && filter.Filter.Name == "port" && filter.Value is IntegerValue port && !ports.Contains((int)port.Value))
                    {
                        ports.Add((int)port.Value);
                    }

                    break;
            }
        }
    }
}
