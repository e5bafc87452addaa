using System.Globalization;
using System.Net;
using System.Text.Json;
using ExposureIndex.Contracts.Json;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Query;
using ExposureIndex.Storage;

namespace ExposureIndex.SearchApi.Json;

/// <summary>Shodan's response shapes: the host object, search results with facets.</summary>
internal static class ShodanJson
{
    public static BannerMetadata Metadata(StoredService stored)
        => new(stored.FirstSeen?.ToDateTime(), stored.LastSeen?.ToDateTime(), stored.RecordId, stored.Observations);

    /// <summary>Shodan's host object: host-level facts from the newest banner, ports, and the banners under data.</summary>
    public static void WriteHost(Utf8JsonWriter writer, HostView host, bool history, bool minify)
    {
        var newest = host.Services.OrderByDescending(s => s.LastSeen).Select(s => s.Record).FirstOrDefault()
            ?? host.History.FirstOrDefault();
        var location = newest?.Location;
        writer.WriteStartObject();
        var ip = host.Address.ToString();
        if (BannerJson.TryGetIPv4Integer(ip, out var numeric))
        {
            writer.WriteNumber("ip", numeric);
        }

        writer.WriteString("ip_str", ip);
        BannerJson.WriteLocationFields(writer, location);
        writer.WriteNull("country_code3");
        WriteNullable(writer, "asn", newest?.Asn);
        WriteNullable(writer, "org", newest?.Org);
        WriteNullable(writer, "isp", newest?.Isp);
        WriteNullable(writer, "os", host.Services.Select(s => s.Record.Os).FirstOrDefault(o => !string.IsNullOrEmpty(o)));
        writer.WriteString("last_update", host.LastUpdate.ToString(BannerJson.TimestampFormat, CultureInfo.InvariantCulture));
        WriteStrings(writer, "hostnames", host.Services.SelectMany(s => s.Record.Hostnames).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal));
        WriteStrings(writer, "domains", host.Services.SelectMany(s => s.Record.Domains).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal));
        WriteStrings(writer, "tags", host.Services.SelectMany(s => s.Record.Tags).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        writer.WriteStartArray("ports");
        foreach (var port in host.Services.Select(s => s.Record.Port).Distinct().Order())
        {
            writer.WriteNumberValue(port);
        }

        writer.WriteEndArray();
        if (!minify)
        {
            writer.WriteStartArray("data");
            if (history)
            {
                foreach (var record in host.History)
                {
                    BannerJson.Write(writer, record, null, minify: false);
                }
            }
            else
            {
                foreach (var service in host.Services)
                {
                    BannerJson.Write(writer, service.Record, Metadata(service), minify: false);
                }
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    public static void WriteSearch(Utf8JsonWriter writer, SearchResult result, IReadOnlyList<FacetRequest> facets, bool minify, bool includeMatches)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("matches");
        if (includeMatches)
        {
            foreach (var match in result.Matches)
            {
                BannerJson.Write(writer, match.Record, Metadata(match), minify);
            }
        }

        writer.WriteEndArray();
        writer.WriteNumber("total", result.Total);
        if (facets.Count > 0)
        {
            writer.WriteStartObject("facets");
            foreach (var facet in facets)
            {
                writer.WriteStartArray(facet.Field.Name);
                if (result.Facets.TryGetValue(facet.Field.Name, out var buckets))
                {
                    var numeric = facet.Field.Kind is FilterKind.Integer or FilterKind.Hash;
                    foreach (var bucket in buckets)
                    {
                        writer.WriteStartObject();
                        writer.WriteNumber("count", bucket.Count);
                        if (numeric && long.TryParse(bucket.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                        {
                            writer.WriteNumber("value", n);
                        }
                        else
                        {
                            writer.WriteString("value", bucket.Value);
                        }

                        writer.WriteEndObject();
                    }
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    public static void WriteStrings(Utf8JsonWriter writer, string property, IEnumerable<string> values)
    {
        writer.WriteStartArray(property);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    private static void WriteNullable(Utf8JsonWriter writer, string property, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            writer.WriteNull(property);
        }
        else
        {
            writer.WriteString(property, value);
        }
    }

    public static bool TryParseAddress(string text, out IPAddress address)
        => IPAddress.TryParse(text, out address!) && text.Length <= 64;
}
