namespace ExposureIndex.Storage.Elastic;

/// <summary>
/// Elasticsearch could not be reached or refused a request. The message names the cluster URL (without
/// credentials), the request and, when Elasticsearch answered, its status and error type and reason.
/// </summary>
public sealed class ElasticException : Exception
{
    public ElasticException(string message)
        : base(message)
    {
    }

    public ElasticException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ElasticException()
    {
    }

    internal ElasticException(string message, int? statusCode, string? errorType, string? reason, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ErrorType = errorType;
        Reason = reason;
    }

    /// <summary>The HTTP status Elasticsearch answered with; null when it did not answer.</summary>
    public int? StatusCode { get; }

    /// <summary>Elasticsearch's <c>error.type</c>, e.g. <c>index_not_found_exception</c>.</summary>
    public string? ErrorType { get; }

    public string? Reason { get; }
}

/// <summary>One <c>_bulk</c> item that failed for good: a non-retryable status, or a retryable one after the last attempt.</summary>
public sealed record ElasticBulkFailure(string Action, string Index, string Id, int Status, string? ErrorType, string? Reason)
{
    public override string ToString() => $"{Action} {Index}/{Id}: {Status} {ErrorType}: {Reason}";
}

/// <summary>Some items of a <c>_bulk</c> request failed; <see cref="Failures"/> lists every one of them.</summary>
public sealed class ElasticBulkException : Exception
{
    public ElasticBulkException(string message)
        : base(message)
    {
        Failures = [];
    }

    public ElasticBulkException(string message, Exception innerException)
        : base(message, innerException)
    {
        Failures = [];
    }

    public ElasticBulkException()
    {
        Failures = [];
    }

    internal ElasticBulkException(string message, IReadOnlyList<ElasticBulkFailure> failures)
        : base(message)
    {
        Failures = failures;
    }

    public IReadOnlyList<ElasticBulkFailure> Failures { get; }
}
