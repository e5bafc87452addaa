using System.Text.Json;
using ExposureIndex.TestCommon;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ExposureIndex.IntegrationTests.Ui;

/// <summary>
/// The web UI in a real browser (Debian's chromium, headless) against a real server: key entry, search,
/// facets, paging, positioned errors, host pages with history, export, and hostile banners staying text.
/// </summary>
public sealed class SearchUiBrowserTests(UiBrowserFixture fixture) : IClassFixture<UiBrowserFixture>
{
    private const string Key = UiBrowserFixture.Key;

    static SearchUiBrowserTests() => SetDefaultExpectTimeout(15_000);

    private static string SearchHash(string query, int page = 1)
        => "#/search?q=" + Uri.EscapeDataString(query) + (page > 1 ? "&page=" + page : string.Empty);

    private async Task<UiSession> OpenAsync(string? key, string hash = "#/")
    {
        var chromium = Requires.Executable("chromium", "chromium");
        var context = await fixture.ContextAsync(chromium);
        return await UiSession.OpenAsync(context, key, hash);
    }

    private static async Task SearchAsync(IPage page, string query)
    {
        var box = page.Locator("#q");
        await box.FillAsync(query);
        await box.PressAsync("Enter");
    }

    [Fact]
    public async Task Search_WithKey_ShowsResultsAndFacetsAndAFacetClickRefines()
    {
        await using var session = await OpenAsync(Key);
        var page = session.Page;
        const string query = "port:22,80,443,8080";
        await SearchAsync(page, query);

        await Expect(page.Locator("#results-heading")).ToHaveTextAsync("4 results");
        await Expect(page.Locator(".result")).ToHaveCountAsync(4);
        var ssh = page.Locator(".result", new() { Has = page.Locator("a.endpoint", new() { HasText = "198.51.100.10:22/tcp" }) });
        await Expect(ssh.Locator(".product")).ToHaveTextAsync("OpenSSH 9.2p1");
        await Expect(ssh.Locator(".facts")).ToContainTextAsync("gw.example.net");
        await Expect(ssh.Locator(".facts")).ToContainTextAsync("Austin, United States");
        await Expect(ssh.Locator(".facts")).ToContainTextAsync("Example Hosting");
        await Expect(ssh.Locator(".facts")).ToContainTextAsync("AS64500");
        await Expect(ssh.Locator("time")).ToHaveTextAsync("2026-04-01 10:00 UTC");
        await Expect(ssh.Locator("pre.banner")).ToHaveTextAsync("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
        var https = page.Locator(".result", new() { Has = page.Locator("a.endpoint", new() { HasText = "198.51.100.10:443/tcp" }) });
        await Expect(https.Locator(".extras")).ToContainTextAsync("Example Portal");
        await Expect(https.Locator(".extras")).ToContainTextAsync("www.example.net");

        // Facets: counts from the API, one button per value.
        var apache = page.Locator("button.facet-value[data-facet='product'][data-value='Apache httpd']");
        await Expect(apache).ToHaveCountAsync(1);
        await Expect(page.Locator("li.facet-row", new() { Has = apache }).Locator(".facet-count")).ToHaveTextAsync("1");
        await Expect(page.Locator("button.facet-value[data-facet='port']")).ToHaveCountAsync(4);
        await Expect(page.Locator("button.facet-value[data-facet='country'][data-value='DE']")).ToHaveCountAsync(1);

        await apache.ClickAsync();
        await Expect(page.Locator("#q")).ToHaveValueAsync(query + " product:\"Apache httpd\"");
        await Expect(page.Locator("#results-heading")).ToHaveTextAsync("1 result");
        await Expect(page.Locator(".result a.endpoint")).ToHaveTextAsync("198.51.100.20:80/tcp");
        await Expect(page.Locator("button.facet-value[data-facet='product'][data-value='Apache httpd']")).ToHaveAttributeAsync("aria-pressed", "true");
        Assert.Contains("q=" + Uri.EscapeDataString(query + " product:\"Apache httpd\""), page.Url.Replace("%20", "+", StringComparison.Ordinal).Replace("+", "%20", StringComparison.Ordinal), StringComparison.Ordinal);

        // The same value again removes the refinement; the minus excludes a value instead.
        await page.Locator("button.facet-value[data-facet='product'][data-value='Apache httpd']").ClickAsync();
        await Expect(page.Locator("#q")).ToHaveValueAsync(query);
        await Expect(page.Locator("#results-heading")).ToHaveTextAsync("4 results");
        await page.Locator("button.facet-exclude[data-facet='product'][data-value='nginx']").ClickAsync();
        await Expect(page.Locator("#q")).ToHaveValueAsync(query + " -product:nginx");
        await Expect(page.Locator("#results-heading")).ToHaveTextAsync("3 results");
        await Expect(page.Locator(".result a.endpoint", new() { HasText = ":443/" })).ToHaveCountAsync(0);

        // Back goes to the previous query (routes are history entries).
        await page.GoBackAsync();
        await Expect(page.Locator("#results-heading")).ToHaveTextAsync("4 results");
        session.AssertClean();
    }

    [Fact]
    public async Task Search_ManyResults_Pages100AtATime()
    {
        await using var session = await OpenAsync(Key, SearchHash("product:bulk-httpd"));
        var page = session.Page;
        await Expect(page.Locator("#results-heading")).ToHaveTextAsync($"{UiBrowserFixture.BulkCount} results");
        await Expect(page.Locator(".result")).ToHaveCountAsync(100);
        await Expect(page.Locator(".pager .page-of")).ToHaveTextAsync("Page 1 of 2");

        await page.Locator(".pager a[rel='next']").ClickAsync();
        await Expect(page.Locator(".result")).ToHaveCountAsync(UiBrowserFixture.BulkCount - 100);
        await Expect(page.Locator(".pager .page-of")).ToHaveTextAsync("Page 2 of 2");
        await Expect(page.Locator("#results-heading")).ToHaveTextAsync($"{UiBrowserFixture.BulkCount} results");
        Assert.EndsWith("&page=2", page.Url, StringComparison.Ordinal);
        await Expect(page.Locator(".pager a[rel='next']")).ToHaveCountAsync(0);
        session.AssertClean();
    }

    [Fact]
    public async Task Search_BadQuery_ShowsTheApiMessageAndMarksItsPosition()
    {
        await using var session = await OpenAsync(Key);
        var page = session.Page;
        await SearchAsync(page, "port:22 prot:80");

        var error = page.Locator("#query-error");
        await Expect(error).ToBeVisibleAsync();
        await Expect(page.Locator("#query-error-message")).ToContainTextAsync("unknown filter 'prot' at position 8");
        await Expect(page.Locator("#query-error-message")).ToContainTextAsync("did you mean 'port'?");
        await Expect(page.Locator("#query-error-context mark")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^prot"));
        await Expect(page.Locator("#query-error-context")).ToHaveTextAsync("port:22 prot:80");
        await Expect(page.Locator("#q")).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.Equal(8, await page.Locator("#q").EvaluateAsync<int>("q => q.selectionStart"));
        await Expect(page.Locator("#q")).ToBeFocusedAsync();

        // Fixing the query clears the error.
        await SearchAsync(page, "port:22 port:22");
        await Expect(page.Locator("#results-heading")).ToHaveTextAsync("1 result");
        await Expect(error).ToBeHiddenAsync();
        await Expect(page.Locator("#q")).Not.ToHaveAttributeAsync("aria-invalid", "true");
        session.AssertClean();
    }

    [Fact]
    public async Task HostPage_ShowsSummarySectionsAndHistory()
    {
        await using var session = await OpenAsync(Key, "#/host/198.51.100.10");
        var page = session.Page;
        await Expect(page.Locator("h1")).ToHaveTextAsync("198.51.100.10");
        var summary = page.Locator(".summary");
        await Expect(summary.Locator(".ports a")).ToHaveTextAsync(["22", "443"]);
        await Expect(summary).ToContainTextAsync("gw.example.net");
        await Expect(summary).ToContainTextAsync("www.example.net");
        await Expect(summary).ToContainTextAsync("Austin, United States");
        await Expect(summary).ToContainTextAsync("Example Hosting");
        await Expect(summary).ToContainTextAsync("AS64500");
        await Expect(summary).ToContainTextAsync("2026-04-01 10:00 UTC");
        await Expect(page.Locator(".services > h2")).ToHaveTextAsync("Services (2)");

        var ssh = page.Locator("#svc-22-tcp");
        await Expect(ssh.Locator("pre.banner").First).ToHaveTextAsync("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
        await Expect(ssh).ToContainTextAsync("SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s");
        await Expect(ssh).ToContainTextAsync("dc:14:de:8e:d7:c1:15:43:23:82:25:81:d2:59:e8:c0");
        await Expect(ssh).ToContainTextAsync("curve25519-sha256");
        await Expect(ssh).ToContainTextAsync("chacha20-poly1305@openssh.com");
        var tls = page.Locator("#svc-443-tcp");
        await Expect(tls).ToContainTextAsync("CN=www.example.net, O=Example Hosting");
        await Expect(tls).ToContainTextAsync("CN=Example Issuing CA");
        await Expect(tls).ToContainTextAsync("TLS_AES_128_GCM_SHA256");
        await Expect(tls).ToContainTextAsync("Example Portal");
        await Expect(tls.Locator("summary", new() { HasText = "Raw JSON" })).ToHaveCountAsync(1);

        // A port in the summary jumps to its service without leaving the page.
        await summary.Locator(".ports a", new() { HasText = "443" }).ClickAsync();
        await Expect(tls).ToBeFocusedAsync();
        Assert.EndsWith("#/host/198.51.100.10", page.Url, StringComparison.Ordinal);

        await page.Locator("#history-toggle").CheckAsync();
        await Expect(page.Locator(".services > h2")).ToHaveTextAsync("History (3 observations)");
        Assert.EndsWith("#/host/198.51.100.10?history=1", page.Url, StringComparison.Ordinal);
        var sshHistory = page.Locator("#svc-22-tcp");
        await Expect(sshHistory.Locator(".observation")).ToHaveCountAsync(2);
        await Expect(sshHistory.Locator(".observation time")).ToHaveTextAsync(["2026-04-01 10:00 UTC", "2026-03-22 10:00 UTC"]);
        await Expect(sshHistory.Locator(".observation").First).ToContainTextAsync("version: 9.0p1 → 9.2p1");
        await Expect(sshHistory.Locator(".observation").Nth(1)).ToContainTextAsync("first seen");
        await Expect(sshHistory.Locator(".service-head")).ToContainTextAsync("2 observations");

        await page.Locator("#history-toggle").UncheckAsync();
        await Expect(page.Locator(".services > h2")).ToHaveTextAsync("Services (2)");
        session.AssertClean();
    }

    [Fact]
    public async Task HostileBanner_IsShownAsTextAndNoScriptRuns()
    {
        await using var session = await OpenAsync(Key, SearchHash("port:8080"));
        var page = session.Page;
        await Expect(page.Locator("#results-heading")).ToHaveTextAsync("1 result");
        var card = page.Locator(".result");
        var preview = await card.Locator("pre.banner").TextContentAsync() ?? string.Empty;
        Assert.Contains(UiBrowserFixture.HostileScript, preview, StringComparison.Ordinal);
        Assert.Contains(UiBrowserFixture.HostileImage, preview, StringComparison.Ordinal);
        Assert.Contains("abc<U+202E>dcb", preview, StringComparison.Ordinal);
        Assert.DoesNotContain("\u202E", preview, StringComparison.Ordinal);
        await Expect(card.Locator(".product")).ToHaveTextAsync(UiBrowserFixture.HostileProduct + " 1<i>0</i>");
        await Expect(card.Locator(".extras .title")).ToHaveTextAsync(UiBrowserFixture.HostileTitle);
        await Expect(card.Locator(".chips.tags li")).ToHaveTextAsync("<u>tag</u>");
        await Expect(page.Locator("button.facet-value[data-facet='product']")).ToHaveTextAsync(UiBrowserFixture.HostileProduct);
        await AssertNothingRanAsync(page);

        await card.Locator("a.endpoint").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("198.51.100.66");
        var service = page.Locator("#svc-8080-tcp");
        await Expect(service).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("\\btarget\\b"));
        var full = await service.Locator("pre.banner").First.TextContentAsync() ?? string.Empty;
        Assert.EndsWith(UiBrowserFixture.HostileSvg, full, StringComparison.Ordinal);
        await Expect(service.Locator("table.headers td")).ToHaveTextAsync(UiBrowserFixture.HostileImage);
        await AssertNothingRanAsync(page);

        session.AssertClean();

        // The CSP's Trusted Types turn any HTML-parsing assignment into an error, not markup; the violation is
        // reported on the console, which is also how AssertClean would catch one made by the UI itself.
        var outcome = await page.EvaluateAsync<string>("() => { try { document.createElement('div').innerHTML = '<b>x</b>'; return 'assigned'; } catch (e) { return e.name; } }");
        Assert.Equal("TypeError", outcome);
        Assert.Contains(session.TakeProblems(), p => p.Contains("TrustedHTML", StringComparison.Ordinal));
    }

    private static async Task AssertNothingRanAsync(IPage page)
    {
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.__pwned"));
        Assert.Equal(1, await page.Locator("script").CountAsync());
        Assert.Equal(0, await page.Locator("main img:not(.favicon), main svg, main b, main i, main u").CountAsync());
    }

    [Fact]
    public async Task MyIp_OpensTheHostPageOfTheCallersAddress()
    {
        await using var session = await OpenAsync(Key);
        var page = session.Page;
        await Expect(page.Locator(".big-number")).ToContainTextAsync(fixture.ServiceCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.Locator("#my-ip").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("127.0.0.1");
        Assert.EndsWith("#/host/127.0.0.1", page.Url, StringComparison.Ordinal);
        await Expect(page.Locator("#svc-8780-tcp .product")).ToHaveTextAsync("ExposureIndex demo");
        session.AssertClean();
    }

    [Fact]
    public async Task Export_DownloadsTheQuerysNdjson()
    {
        await using var session = await OpenAsync(Key, SearchHash("product:bulk-httpd"));
        var page = session.Page;
        await Expect(page.Locator("#results-heading")).ToHaveTextAsync($"{UiBrowserFixture.BulkCount} results");
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("button.export").ClickAsync());
        Assert.Matches("^exposureindex-product-bulk-httpd-\\d{8}T\\d{6}\\.ndjson$", download.SuggestedFilename);
        var path = Path.Combine(fixture.DownloadDirectory, download.SuggestedFilename);
        await download.SaveAsAsync(path);
        var lines = (await File.ReadAllLinesAsync(path, TestContext.Current.CancellationToken)).Where(l => l.Length > 0).ToList();
        Assert.Equal(UiBrowserFixture.BulkCount, lines.Count);
        var ips = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal("bulk-httpd", doc.RootElement.GetProperty("product").GetString());
            ips.Add(doc.RootElement.GetProperty("ip_str").GetString()!);
        }

        Assert.Equal(UiBrowserFixture.BulkCount, ips.Count);
        await Expect(page.Locator(".export-status")).ToContainTextAsync("Exported");
        session.AssertClean();
    }

    [Fact]
    public async Task ApiKey_MissingThenWrongThenRight_IsAskedForAndNeverPutInAUrl()
    {
        await using var session = await OpenAsync(key: null);
        var page = session.Page;
        var dialog = page.Locator("#key-dialog");
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(page.Locator("#key-input")).ToBeFocusedAsync();

        await page.Locator("#key-input").FillAsync("wrong-key-00000000");
        await page.Locator("#key-input").PressAsync("Enter");
        await Expect(page.Locator("#key-error")).ToHaveTextAsync("Invalid API key.");
        await Expect(dialog).ToBeVisibleAsync();

        await page.Locator("#key-input").FillAsync(Key);
        await page.Locator("#key-dialog button[value='save']").ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page.Locator(".big-number")).ToContainTextAsync(fixture.ServiceCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(page.Locator("#key-button")).ToHaveTextAsync("API key ✓");
        Assert.Equal(Key, await page.EvaluateAsync<string>("() => localStorage.getItem('exposureindex.apiKey')"));

        await SearchAsync(page, "port:22");
        await Expect(page.Locator("#results-heading")).ToHaveTextAsync("1 result");
        var urls = session.RequestUrls;
        Assert.Contains(urls, u => u.Contains("/shodan/host/search?", StringComparison.Ordinal));
        Assert.DoesNotContain(urls, u => u.Contains(Key, StringComparison.Ordinal) || u.Contains("wrong-key", StringComparison.Ordinal) || u.Contains("key=", StringComparison.Ordinal));
        Assert.DoesNotContain(Key, page.Url, StringComparison.Ordinal);
        session.AssertClean();
    }

    [Fact]
    public async Task QueryBox_CompletesFilterNamesFromTheKeyboard()
    {
        await using var session = await OpenAsync(Key);
        var page = session.Page;
        await Expect(page.Locator(".big-number")).ToBeVisibleAsync();

        await page.Locator("body").PressAsync("/");
        await Expect(page.Locator("#q")).ToBeFocusedAsync();
        await page.Locator("#q").PressSequentiallyAsync("has_s");
        var options = page.Locator("#q-suggestions [role='option']");
        await Expect(options).ToHaveTextAsync(["has_ssl"]);
        await Expect(page.Locator("#q")).ToHaveAttributeAsync("aria-expanded", "true");
        await page.Keyboard.PressAsync("ArrowDown");
        await Expect(page.Locator("#q")).ToHaveAttributeAsync("aria-activedescendant", "q-option-0");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#q")).ToHaveValueAsync("has_ssl:");
        await Expect(page.Locator("#q-suggestions")).ToBeHiddenAsync();
        await page.Keyboard.TypeAsync("true");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#results-heading")).ToHaveTextAsync("1 result");
        await Expect(page.Locator(".result a.endpoint")).ToHaveTextAsync("198.51.100.10:443/tcp");

        // A negated term completes too, keeping its minus.
        await page.Locator("#q").FillAsync("port:443 -coun");
        await page.Locator("#q").PressAsync("End");
        await page.Locator("#q").PressSequentiallyAsync("t");
        await Expect(options.First).ToHaveTextAsync("country");
        await page.Keyboard.PressAsync("ArrowDown");
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.Locator("#q")).ToHaveValueAsync("port:443 -country:");
        session.AssertClean();
    }

    [Fact]
    public async Task Screenshots_SearchAndHostPages_LayOutWithoutOverflowInLightAndDark()
    {
        await using var session = await OpenAsync(Key, SearchHash("port:22,80,443,8080,8780"));
        var page = session.Page;
        Directory.CreateDirectory(fixture.ScreenshotDirectory);
        foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
        {
            await page.EmulateMediaAsync(new() { ColorScheme = scheme });
            await page.GotoAsync("/" + SearchHash("port:22,80,443,8080,8780"));
            await Expect(page.Locator("#results-heading")).ToHaveTextAsync("5 results");
            await AssertSideBySideAsync(page, ".facets", ".results");
            await AssertNoHorizontalOverflowAsync(page);
            var name = scheme == ColorScheme.Light ? "light" : "dark";
            await page.ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotDirectory, $"search-{name}.png"), FullPage = true });

            await page.GotoAsync("/#/host/198.51.100.10");
            await Expect(page.Locator(".services > h2")).ToHaveTextAsync("Services (2)");
            await AssertSideBySideAsync(page, ".summary", ".services");
            await AssertNoHorizontalOverflowAsync(page);
            await page.ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotDirectory, $"host-{name}.png"), FullPage = true });
        }

        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await page.GotoAsync("/#/");
        await Expect(page.Locator(".big-number")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotDirectory, "home-light.png"), FullPage = true });
        await SearchAsync(page, "port:22 prot:80");
        await Expect(page.Locator("#query-error")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotDirectory, "error-light.png") });

        // Narrow screens stack the sidebar above the results instead of squeezing them.
        await page.SetViewportSizeAsync(420, 900);
        await page.GotoAsync("/" + SearchHash("port:22,80,443,8080,8780"));
        await Expect(page.Locator("#results-heading")).ToHaveTextAsync("5 results");
        await AssertNoHorizontalOverflowAsync(page);
        await page.ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotDirectory, "search-narrow.png"), FullPage = true });
        await page.SetViewportSizeAsync(1366, 900);

        foreach (var file in Directory.GetFiles(fixture.ScreenshotDirectory, "*.png"))
        {
            Assert.True(new FileInfo(file).Length > 10_000, $"{file} looks empty");
            TestContext.Current.AddAttachment(Path.GetFileName(file), await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken), "image/png");
        }

        TestContext.Current.SendDiagnosticMessage($"UI screenshots: {fixture.ScreenshotDirectory}");
        session.AssertClean();
    }

    private static async Task AssertSideBySideAsync(IPage page, string left, string right)
    {
        var a = await page.Locator(left).BoundingBoxAsync();
        var b = await page.Locator(right).BoundingBoxAsync();
        Assert.NotNull(a);
        Assert.NotNull(b);
        Assert.True(a.X + a.Width <= b.X, $"{left} ({a.X}+{a.Width}) overlaps {right} (x={b.X})");
        Assert.True(b.Width > 2 * a.Width, $"{right} is only {b.Width}px wide beside {left}'s {a.Width}px");
    }

    private static async Task AssertNoHorizontalOverflowAsync(IPage page)
    {
        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.True(overflow <= 0, $"the page scrolls sideways by {overflow}px");
    }
}
