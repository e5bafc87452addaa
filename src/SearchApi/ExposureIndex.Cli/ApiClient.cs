using System.Net;
using System.Text.Json;

namespace ExposureIndex.Cli;

/// <summary>The CLI's client for a running SearchApi (the same REST API Shodan clients use).</summary>
internal sealed class ApiClient(Uri baseUrl, string apiKey) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = TimeSpan.FromMinutes(2) };

    public async Task<JsonDocument> GetAsync(string path, IEnumerable<KeyValuePair<string, string>> query, CancellationToken cancellationToken)
    {
        var parameters = query.Append(new("key", apiKey)).Select(kv => $"{Uri.EscapeDataString(kv.Key)}={Uri.EscapeDataString(kv.Value)}");
        var url = new Uri(baseUrl, path + "?" + string.Join('&', parameters));
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(url, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"cannot reach the API at {baseUrl} ({ex.Message}); is `exposure serve` running? (--api-url)");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"the API at {baseUrl} did not answer in time");
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            JsonDocument? document = null;
            try
            {
                document = JsonDocument.Parse(body);
            }
            catch (JsonException)
            {
            }

            if (!response.IsSuccessStatusCode)
            {
                var message = document?.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var e) ? e.GetString() : body;
                document?.Dispose();
                throw new CliException(response.StatusCode == HttpStatusCode.Unauthorized
                    ? $"the API refused the key: {message} (--api-key or $EXPOSURE_API_KEY)"
                    : $"{message}", response.StatusCode == HttpStatusCode.NotFound ? 3 : 1);
            }

            return document ?? throw new CliException($"the API at {baseUrl} answered with something that is not JSON");
        }
    }

    public void Dispose() => _http.Dispose();
}
