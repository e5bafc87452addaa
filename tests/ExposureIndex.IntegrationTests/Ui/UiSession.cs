using Microsoft.Playwright;

namespace ExposureIndex.IntegrationTests.Ui;

/// <summary>
/// One browser tab on the UI, recording what must never happen: script errors, CSP violations (Chromium logs
/// them as console errors), and any request URL carrying the API key.
/// </summary>
internal sealed class UiSession : IAsyncDisposable
{
    private readonly List<string> _problems = [];
    private readonly List<string> _requests = [];

    private UiSession(IPage page)
    {
        Page = page;
        page.Console += (_, message) =>
        {
            // A fetch answered 4xx is logged by Chromium as "Failed to load resource"; the UI expects those.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
            {
                lock (_problems)
                {
                    _problems.Add("console: " + message.Text);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_problems)
            {
                _problems.Add("page error: " + error);
            }
        };
        page.Request += (_, request) =>
        {
            lock (_requests)
            {
                _requests.Add(request.Url);
            }
        };
    }

    public IPage Page { get; }

    public IReadOnlyList<string> RequestUrls
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Opens a tab with (or without) the key stored, then loads the app at <paramref name="hash"/>.</summary>
    public static async Task<UiSession> OpenAsync(IBrowserContext context, string? key, string hash = "#/")
    {
        var page = await context.NewPageAsync();
        var session = new UiSession(page);
        await page.GotoAsync("/ui/missing");
        await page.EvaluateAsync("k => { localStorage.clear(); if (k) localStorage.setItem('exposureindex.apiKey', k); }", key);
        await page.GotoAsync("/" + hash);
        return session;
    }

    public void AssertClean()
    {
        lock (_problems)
        {
            Assert.True(_problems.Count == 0, "browser reported problems:\n" + string.Join("\n", _problems));
        }
    }

    /// <summary>Returns and forgets the problems so far (for a test that provokes one on purpose).</summary>
    public IReadOnlyList<string> TakeProblems()
    {
        lock (_problems)
        {
            var taken = _problems.ToList();
            _problems.Clear();
            return taken;
        }
    }

    public async ValueTask DisposeAsync() => await Page.CloseAsync();
}
