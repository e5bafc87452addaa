using System.Globalization;

namespace ExposureIndex.Storage.Elastic;

/// <summary>When a bulk write becomes visible to searches (Elasticsearch's <c>refresh</c> parameter).</summary>
public enum ElasticRefreshPolicy
{
    /// <summary><c>refresh=wait_for</c>: the bulk answers once a scheduled refresh has made it searchable (the default).</summary>
    WaitFor = 1,

    /// <summary><c>refresh=true</c>: force a refresh of the touched shards (costly under load; for tests and demos).</summary>
    Immediate = 2,

    /// <summary><c>refresh=false</c>: durable on return but searchable only after the next scheduled refresh.</summary>
    None = 3,
}

/// <summary>
/// Settings of the Elasticsearch store. Immutable; <see cref="Validate"/> reports every problem at once.
/// Credentials may also come from the URL (<c>http://user:password@host:9200</c>); options win over the URL.
/// </summary>
public sealed record ElasticStoreOptions
{
    public static ElasticStoreOptions Default { get; } = new();

    /// <summary>Index names start with this: <c>{prefix}-services</c>, <c>{prefix}-observations-yyyy.MM</c>, <c>{prefix}-changes</c>.</summary>
    public string IndexPrefix { get; init; } = "exposure";

    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>An API key as Elasticsearch returns it in <c>encoded</c> (base64 of <c>id:api_key</c>); sent as <c>Authorization: ApiKey ...</c>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Time one HTTP attempt may take, body included.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts per request (and per bulk item) before giving up on 429/503 answers or connection errors.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>First retry delay; doubled per attempt up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest <c>_bulk</c> body sent at once (Elasticsearch's http.max_content_length is 100 MB by default).</summary>
    public int BulkMaxBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Documents fetched per page when exporting, walking history or deep paging.</summary>
    public int PageSize { get; init; } = 1000;

    public int NumberOfShards { get; init; } = 1;

    public int NumberOfReplicas { get; init; } = 1;

    public ElasticRefreshPolicy Refresh { get; init; } = ElasticRefreshPolicy.WaitFor;

    /// <summary>Every problem with these options, or none.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrEmpty(IndexPrefix))
        {
            errors.Add("IndexPrefix is empty");
        }
        else if (!IsValidPrefix(IndexPrefix))
        {
            errors.Add($"IndexPrefix '{IndexPrefix}' is not a valid Elasticsearch index name start (lower-case letters, digits, '-', '_', '.'; not starting with '-', '_', '+' or '.'; at most 200 characters)");
        }

        if (ApiKey is not null && (Username is not null || Password is not null))
        {
            errors.Add("ApiKey and Username/Password are exclusive; give one of them");
        }

        if (Password is not null && Username is null)
        {
            errors.Add("Password is set without Username");
        }

        Positive(errors, nameof(RequestTimeout), RequestTimeout);
        Positive(errors, nameof(ConnectTimeout), ConnectTimeout);
        Positive(errors, nameof(RetryBaseDelay), RetryBaseDelay);
        if (RetryMaxDelay < RetryBaseDelay)
        {
            errors.Add($"RetryMaxDelay ({RetryMaxDelay}) is shorter than RetryBaseDelay ({RetryBaseDelay})");
        }

        if (MaxAttempts is < 1 or > 20)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"MaxAttempts must be between 1 and 20, not {MaxAttempts}"));
        }

        if (BulkMaxBytes < 64 * 1024)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"BulkMaxBytes must be at least 65536, not {BulkMaxBytes}"));
        }

        if (PageSize is < 1 or > ElasticStore.MaxResultWindow)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"PageSize must be between 1 and {ElasticStore.MaxResultWindow}, not {PageSize}"));
        }

        if (NumberOfShards is < 1 or > 1024)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"NumberOfShards must be between 1 and 1024, not {NumberOfShards}"));
        }

        if (NumberOfReplicas is < 0 or > 16)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"NumberOfReplicas must be between 0 and 16, not {NumberOfReplicas}"));
        }

        if (!Enum.IsDefined(Refresh))
        {
            errors.Add($"Refresh '{Refresh}' is not a known policy");
        }

        return errors;
    }

    internal string RefreshParameter => Refresh switch
    {
        ElasticRefreshPolicy.Immediate => "true",
        ElasticRefreshPolicy.None => "false",
        _ => "wait_for",
    };

    private static void Positive(List<string> errors, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{name} must be positive, not {value}");
        }
    }

    // Index names: lower case, no \ / * ? " < > | space , # :, not starting with - _ + (ES docs, "Create index API").
    private static bool IsValidPrefix(string prefix)
        => prefix.Length <= 200
           && prefix[0] is not ('-' or '_' or '+' or '.')
           && prefix.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.');
}
