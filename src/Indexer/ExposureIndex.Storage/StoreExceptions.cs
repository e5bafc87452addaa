namespace ExposureIndex.Storage;

/// <summary>The store's files are damaged in a way it will not guess around; the message names the file and offset.</summary>
public sealed class StoreCorruptException : Exception
{
    public StoreCorruptException(string message)
        : base(message)
    {
    }

    public StoreCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StoreCorruptException()
    {
    }
}

/// <summary>A query the backend cannot run as asked (e.g. a free-text phrase over too many candidates); maps to HTTP 400.</summary>
public sealed class StoreQueryException : Exception
{
    public StoreQueryException(string message)
        : base(message)
    {
    }

    public StoreQueryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StoreQueryException()
    {
    }
}
