namespace ExposureIndex.Query;

/// <summary>
/// Why a query or facet list was rejected. <paramref name="Position"/> and <paramref name="Length"/> are in UTF-16
/// code units of the submitted text and mark the offending part; <paramref name="Filter"/> names the filter
/// involved (as typed, for an unknown one), or is null.
/// </summary>
public sealed record QueryError(string Message, int Position, int Length, string? Filter)
{
    public override string ToString() => Message;
}

/// <summary>Thrown by <see cref="QueryParser.Parse(string)"/> and <see cref="FacetParser.Parse(string)"/>; carries the positioned error.</summary>
public sealed class QueryException : Exception
{
    public QueryException(QueryError error)
        : base(error?.Message)
    {
        ArgumentNullException.ThrowIfNull(error);
        Error = error;
    }

    public QueryException()
        : this(new QueryError("invalid query", 0, 0, null))
    {
    }

    public QueryException(string message)
        : this(new QueryError(message, 0, 0, null))
    {
    }

    public QueryException(string message, Exception innerException)
        : base(message, innerException)
    {
        Error = new QueryError(message, 0, 0, null);
    }

    /// <summary>The error, with its position.</summary>
    public QueryError Error { get; }
}
