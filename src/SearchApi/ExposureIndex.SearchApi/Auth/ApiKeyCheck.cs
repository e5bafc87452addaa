using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace ExposureIndex.SearchApi.Auth;

/// <summary>
/// Shodan's scheme: the key travels as <c>?key=</c> (the official clients send it that way). Compared in
/// constant time. Health and the web UI's static files are the only unauthenticated paths.
/// </summary>
internal sealed class ApiKeyCheck(SearchApiOptions options)
{
    private readonly byte[][] _keys = options.ApiKeys.Select(k => Encoding.UTF8.GetBytes(k)).ToArray();

    public bool IsAuthorized(HttpContext context, out string? error)
    {
        var key = context.Request.Query["key"].ToString();
        if (string.IsNullOrEmpty(key))
        {
            key = context.Request.Headers["X-Api-Key"].ToString();
        }

        if (string.IsNullOrEmpty(key))
        {
            error = "Please provide an API key with ?key=YOUR_KEY.";
            return false;
        }

        var given = Encoding.UTF8.GetBytes(key);
        var ok = false;
        foreach (var candidate in _keys)
        {
            ok |= CryptographicOperations.FixedTimeEquals(given, candidate);
        }

        error = ok ? null : "Invalid API key.";
        return ok;
    }
}
