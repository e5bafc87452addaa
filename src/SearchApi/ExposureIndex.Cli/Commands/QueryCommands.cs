using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ExposureIndex.Cli.Commands;

/// <summary>`search`, `count` and `host`: thin clients of a running SearchApi.</summary>
internal static class QueryCommands
{
    public static Command Search()
    {
        var query = new Argument<string>("query") { Description = "Shodan-style query, e.g. 'port:22 product:OpenSSH -country:US'" };
        var page = new Option<int>("--page") { Description = "Result page (100 per page)", DefaultValueFactory = _ => 1 };
        var facets = new Option<string?>("--facets") { Description = "Facets to summarize, e.g. product:10,country" };
        var json = new Option<bool>("--json") { Description = "Print the raw JSON response" };
        var (apiUrl, apiKey, data) = (CommonOptions.ApiUrl(), CommonOptions.ApiKey(), CommonOptions.Data());
        var command = new Command("search", "Search a running ExposureIndex (like `shodan search`)") { query, page, facets, json, apiUrl, apiKey, data };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Client(parse, apiUrl, apiKey, data);
            var args = new List<KeyValuePair<string, string>> { new("query", parse.GetValue(query) ?? string.Empty), new("page", parse.GetValue(page).ToString(CultureInfo.InvariantCulture)), new("minify", "true") };
            if (parse.GetValue(facets) is { Length: > 0 } f)
            {
                args.Add(new("facets", f));
            }

            using var doc = await client.GetAsync("/shodan/host/search", args, ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                PrintJson(doc);
                return 0;
            }

            foreach (var match in doc.RootElement.GetProperty("matches").EnumerateArray())
            {
                Console.WriteLine(FormatBanner(match));
            }

            Console.WriteLine($"total: {doc.RootElement.GetProperty("total").GetInt64():N0}");
            PrintFacets(doc.RootElement);
            return 0;
        });
        return command;
    }

    public static Command Count()
    {
        var query = new Argument<string>("query") { Description = "Shodan-style query (empty string counts everything)" };
        var facets = new Option<string?>("--facets") { Description = "Facets to summarize, e.g. product:10,country" };
        var json = new Option<bool>("--json") { Description = "Print the raw JSON response" };
        var (apiUrl, apiKey, data) = (CommonOptions.ApiUrl(), CommonOptions.ApiKey(), CommonOptions.Data());
        var command = new Command("count", "Count the services matching a query, with optional facets") { query, facets, json, apiUrl, apiKey, data };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Client(parse, apiUrl, apiKey, data);
            var args = new List<KeyValuePair<string, string>> { new("query", parse.GetValue(query) ?? string.Empty) };
            if (parse.GetValue(facets) is { Length: > 0 } f)
            {
                args.Add(new("facets", f));
            }

            using var doc = await client.GetAsync("/shodan/host/count", args, ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                PrintJson(doc);
                return 0;
            }

            Console.WriteLine(doc.RootElement.GetProperty("total").GetInt64().ToString(CultureInfo.InvariantCulture));
            PrintFacets(doc.RootElement);
            return 0;
        });
        return command;
    }

    public static Command Host()
    {
        var ip = new Argument<string>("ip") { Description = "IPv4 or IPv6 address" };
        var history = new Option<bool>("--history") { Description = "Include every past observation" };
        var json = new Option<bool>("--json") { Description = "Print the raw JSON response" };
        var (apiUrl, apiKey, data) = (CommonOptions.ApiUrl(), CommonOptions.ApiKey(), CommonOptions.Data());
        var command = new Command("host", "Show what is known about one IP (like `shodan host`)") { ip, history, json, apiUrl, apiKey, data };
        command.SetAction(async (parse, ct) =>
        {
            var address = parse.GetValue(ip) ?? string.Empty;
            if (!System.Net.IPAddress.TryParse(address, out _))
            {
                throw new CliException($"'{address}' is not an IP address", 2);
            }

            using var client = Client(parse, apiUrl, apiKey, data);
            var args = new List<KeyValuePair<string, string>>();
            if (parse.GetValue(history))
            {
                args.Add(new("history", "true"));
            }

            using var doc = await client.GetAsync("/shodan/host/" + Uri.EscapeDataString(address), args, ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                PrintJson(doc);
                return 0;
            }

            var root = doc.RootElement;
            Console.WriteLine(root.GetProperty("ip_str").GetString());
            PrintField("Hostnames", string.Join(", ", root.GetProperty("hostnames").EnumerateArray().Select(h => h.GetString())));
            PrintField("Country", Str(root, "country_name"));
            PrintField("City", Str(root, "city"));
            PrintField("Organization", Str(root, "org"));
            PrintField("ASN", Str(root, "asn"));
            PrintField("Updated", Str(root, "last_update"));
            PrintField("Ports", string.Join(", ", root.GetProperty("ports").EnumerateArray().Select(p => p.GetInt32())));
            Console.WriteLine();
            foreach (var banner in root.GetProperty("data").EnumerateArray())
            {
                Console.WriteLine(FormatBanner(banner, includeIp: false, includeTime: parse.GetValue(history)));
            }

            return 0;
        });
        return command;
    }

    private static ApiClient Client(ParseResult parse, Option<string?> apiUrl, Option<string?> apiKey, Option<string> data)
    {
        var url = CommonOptions.ResolveApiUrl(parse.GetValue(apiUrl));
        var key = ApiKeys.Resolve(parse.GetValue(apiKey), parse.GetValue(data) ?? CommonOptions.DefaultData)
            ?? throw new CliException("no API key: pass --api-key, set $EXPOSURE_API_KEY, or run from the directory whose ./data holds the key file", 2);
        return new ApiClient(url, key);
    }

    private static string FormatBanner(JsonElement banner, bool includeIp = true, bool includeTime = false)
    {
        var sb = new StringBuilder();
        if (includeIp)
        {
            var ip = banner.GetProperty("ip_str").GetString()!;
            sb.Append(ip.Contains(':', StringComparison.Ordinal) ? $"[{ip}]" : ip).Append(':');
        }

        sb.Append(banner.GetProperty("port").GetInt32()).Append('/').Append(banner.GetProperty("transport").GetString());
        var product = Str(banner, "product");
        var version = Str(banner, "version");
        sb.Append("  ").Append(product.Length == 0 ? "-" : product);
        if (version.Length > 0)
        {
            sb.Append(' ').Append(version);
        }

        if (includeTime)
        {
            sb.Append("  ").Append(Str(banner, "timestamp"));
        }

        var data = Str(banner, "data");
        var firstLine = data.Split('\n', 2)[0].Trim();
        if (firstLine.Length > 0)
        {
            sb.Append("  | ").Append(firstLine.Length > 80 ? firstLine[..80] + "..." : firstLine);
        }

        return sb.ToString();
    }

    private static void PrintFacets(JsonElement root)
    {
        if (!root.TryGetProperty("facets", out var facets))
        {
            return;
        }

        foreach (var facet in facets.EnumerateObject())
        {
            Console.WriteLine();
            Console.WriteLine($"{facet.Name}:");
            foreach (var bucket in facet.Value.EnumerateArray())
            {
                Console.WriteLine($"  {bucket.GetProperty("value"),-40} {bucket.GetProperty("count").GetInt64(),10:N0}");
            }
        }
    }

    private static void PrintField(string name, string value) => Console.WriteLine($"{name,-14}{(value.Length == 0 ? "-" : value)}");

    private static string Str(JsonElement element, string property)
        => element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? string.Empty : string.Empty;

    private static void PrintJson(JsonDocument document)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            document.WriteTo(writer);
        }

        stdout.Write("\n"u8);
    }
}
