using System.Text.Json;
using ExposureIndex.Query;
using ExposureIndex.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.SearchApi.Problems;

/// <summary>
/// Errors in Shodan's shape, <c>{"error": "..."}</c>, which its clients raise as APIError. Query errors carry
/// the position. No path answers 500: expected failures map to 4xx, an unavailable store to 503.
/// </summary>
internal static partial class ApiError
{
    public static async Task WriteAsync(HttpContext context, int status, string message, QueryError? query = null)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("error", message);
        if (query is not null)
        {
            writer.WriteNumber("position", query.Position);
            writer.WriteNumber("length", query.Length);
            if (query.Filter is not null)
            {
                writer.WriteString("filter", query.Filter);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>Maps an exception to a response; returns false for ones that are not ours to answer (client gone).</summary>
    public static async Task<bool> TryHandleAsync(HttpContext context, Exception exception, ILogger logger)
    {
        switch (exception)
        {
            case QueryException q:
                await WriteAsync(context, StatusCodes.Status400BadRequest, q.Error.Message, q.Error).ConfigureAwait(false);
                return true;
            case StoreQueryException s:
                await WriteAsync(context, StatusCodes.Status400BadRequest, s.Message).ConfigureAwait(false);
                return true;
            case BadRequestException b:
                await WriteAsync(context, StatusCodes.Status400BadRequest, b.Message).ConfigureAwait(false);
                return true;
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return false;
            case OperationCanceledException or TimeoutException:
                await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The query took too long and was stopped; narrow it down.").ConfigureAwait(false);
                return true;
            default:
                var id = Guid.NewGuid().ToString("N")[..12];
                LogUnexpected(logger, exception, id, context.Request.Path);
                await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, $"The search backend failed to answer (error id {id}); the server log has the details.").ConfigureAwait(false);
                return true;
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Request failed (error id {ErrorId}) on {Path}")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string errorId, string path);
}

/// <summary>A malformed parameter (page, limit, ip...): 400 with this message.</summary>
public sealed class BadRequestException : Exception
{
    public BadRequestException(string message)
        : base(message)
    {
    }

    public BadRequestException()
    {
    }

    public BadRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
