using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.Json;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Storage.Fields;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Storage.Elastic;

/// <summary>
/// Records, services and change events as Elasticsearch documents, and back. Filter fields hold exactly the
/// values <see cref="DocumentFields"/> extracts (the form the query language produces), so Elasticsearch and the
/// embedded store compare the same things. The whole record travels in <c>raw</c> (protobuf, base64; a
/// <c>binary</c> field, neither indexed nor in doc values) so that reads give back the exact record; the other
/// fields are for searching, facets and people browsing the index with other tools.
/// </summary>
internal static class ElasticDocuments
{
    /// <summary>Service-document fields a read needs (the rest of _source is for searching).</summary>
    public static readonly string[] ServiceSource = ["raw", "record_id", "first_seen_us", "last_seen_us", "observations"];

    /// <summary>Service-document fields the ingest planner needs.</summary>
    public static readonly string[] StateSource = ["raw", "record_id", "latest_id", "live", "ever_live", "seq", "batch", "first_seen_us", "last_seen_us", "observations"];

    // Record fields numbered 43..99 are the protocol sections (ftp, smtp, ..., vnc): kept as `flattened` objects.
    private static readonly FieldDescriptor[] ProtocolSections = ServiceRecord.Descriptor.Fields.InFieldNumberOrder()
        .Where(f => f.FieldType == FieldType.Message && f.FieldNumber is >= 43 and < 100)
        .ToArray();

    private static readonly JsonFormatter SectionFormatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    /// <summary><c>ip:port/transport</c>; an IPv4-mapped IPv6 address counts as IPv4, as in the embedded store.</summary>
    public static string KeyOf(ServiceRecord record) => new ServiceKey(AddressOf(record), (int)record.Port, record.Transport).ToString();

    public static IPAddress AddressOf(ServiceRecord record)
    {
        var address = IPAddress.Parse(record.Ip);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    /// <summary>History lives in one index per month of observation time (see README: "rollover").</summary>
    public static string ObservationIndex(string prefix, ServiceRecord record)
    {
        var at = FromMicros(Micros(record.Timestamp));
        return string.Create(CultureInfo.InvariantCulture, $"{prefix}-observations-{at:yyyy.MM}");
    }

    public static long Micros(Timestamp? timestamp) => timestamp is null ? 0 : (timestamp.Seconds * 1_000_000) + (timestamp.Nanos / 1000);

    /// <summary>The instant, clamped to what <see cref="DateTime"/> (and Elasticsearch's date type) can hold.</summary>
    public static DateTime FromMicros(long micros)
    {
        const long Min = -62_135_596_800_000_000; // 0001-01-01T00:00:00Z
        const long Max = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z
        return DateTime.UnixEpoch.AddTicks(Math.Clamp(micros, Min, Max) * 10);
    }

    /// <summary>Millisecond ISO 8601, the precision of the <c>date</c> type (exact comparisons use the <c>*_us</c> longs).</summary>
    public static string FormatDate(long micros) => FromMicros(micros).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The current-state document of one service.</summary>
    public static JsonObject ServiceDocument(ServiceState state, long batch)
    {
        var doc = RecordFields(state.Current);
        doc["batch"] = batch;
        doc["key"] = state.Key;
        doc["live"] = state.Live;
        doc["ever_live"] = state.EverLive;
        doc["seq"] = state.Seq;
        doc["record_id"] = state.CurrentId;
        doc["latest_id"] = state.LatestId;
        doc["first_seen"] = FormatDate(state.FirstSeen);
        doc["first_seen_us"] = state.FirstSeen;
        doc["last_seen"] = FormatDate(state.LastSeen);
        doc["last_seen_us"] = state.LastSeen;
        doc["observations"] = state.Observations;
        return doc;
    }

    /// <summary>One observation in the history indices (same searchable fields as the current state).</summary>
    public static JsonObject ObservationDocument(ServiceRecord record, string key, string recordId, long batch)
    {
        var doc = RecordFields(record);
        doc["batch"] = batch;
        doc["key"] = key;
        doc["record_id"] = recordId;
        return doc;
    }

    public static JsonObject ChangeDocument(ChangeEvent change)
    {
        var micros = Micros(change.Timestamp);
        var doc = new JsonObject
        {
            ["id"] = change.Id,
            ["kind"] = KindName(change.Kind),
            ["key"] = change.Key,
            ["timestamp"] = FormatDate(micros),
            ["timestamp_us"] = micros,
            ["record_id"] = change.RecordId,
        };
        Optional(doc, "old_product", change.OldProduct);
        Optional(doc, "new_product", change.NewProduct);
        Optional(doc, "old_version", change.OldVersion);
        Optional(doc, "new_version", change.NewVersion);
        if (change.ChangedFields.Count > 0)
        {
            doc["changed_fields"] = new JsonArray(change.ChangedFields.Select(f => (JsonNode)f!).ToArray());
        }

        doc["raw"] = Convert.ToBase64String(change.ToByteArray());
        return doc;
    }

    public static string KindName(ChangeKind kind) => kind switch
    {
        ChangeKind.New => "NEW",
        ChangeKind.Changed => "CHANGED",
        ChangeKind.Gone => "GONE",
        ChangeKind.Returned => "RETURNED",
        _ => "UNSPECIFIED",
    };

    /// <summary>A search hit of the services index as the store's contract type.</summary>
    public static StoredService ToStoredService(JsonObject source, string where)
        => new()
        {
            Record = ReadRecord(source, where),
            RecordId = source["record_id"]?.GetValue<string>() ?? string.Empty,
            FirstSeen = Timestamp.FromDateTime(FromMicros(Long(source, "first_seen_us"))),
            LastSeen = Timestamp.FromDateTime(FromMicros(Long(source, "last_seen_us"))),
            Observations = (uint)Long(source, "observations"),
        };

    public static ServiceRecord ReadRecord(JsonObject source, string where)
    {
        var raw = source["raw"]?.GetValue<string>() ?? throw new StoreCorruptException($"Elasticsearch document {where} has no 'raw' record");
        try
        {
            return ServiceRecord.Parser.ParseFrom(Convert.FromBase64String(raw));
        }
        catch (Exception ex) when (ex is FormatException or InvalidProtocolBufferException)
        {
            throw new StoreCorruptException($"Elasticsearch document {where} holds a 'raw' record that does not decode: {ex.Message}", ex);
        }
    }

    public static ChangeEvent ReadChange(JsonObject source, string where)
    {
        var raw = source["raw"]?.GetValue<string>() ?? throw new StoreCorruptException($"Elasticsearch change event {where} has no 'raw' event");
        try
        {
            return ChangeEvent.Parser.ParseFrom(Convert.FromBase64String(raw));
        }
        catch (Exception ex) when (ex is FormatException or InvalidProtocolBufferException)
        {
            throw new StoreCorruptException($"Elasticsearch change event {where} holds a 'raw' event that does not decode: {ex.Message}", ex);
        }
    }

    public static long Long(JsonObject source, string name) => source[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n : 0;

    /// <summary>The searchable and browsable fields of one record, plus the record itself in <c>raw</c>.</summary>
    public static JsonObject RecordFields(ServiceRecord record)
    {
        var doc = new JsonObject();
        var micros = Micros(record.Timestamp);
        doc["ip"] = AddressOf(record).ToString();
        doc["timestamp"] = FormatDate(micros);
        doc["timestamp_us"] = micros;
        doc["data"] = BannerText.Decode(record.Data.Span);
        var many = new List<string>();
        foreach (var field in ElasticFields.Stored)
        {
            var source = field.Source;
            switch (source.Kind)
            {
                case StoreFieldKind.Keyword or StoreFieldKind.Text when source.Text is not null:
                    if (source.Text(record) is { Length: > 0 } text)
                    {
                        Set(doc, field.Path, text);
                    }

                    break;
                case StoreFieldKind.MultiKeyword when source.Many is not null:
                    many.Clear();
                    source.Many(record, many);
                    var values = many.Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).Select(v => (JsonNode?)v).ToArray();
                    if (values.Length > 0)
                    {
                        Set(doc, field.Path, new JsonArray(values));
                    }

                    break;
                case StoreFieldKind.Integer when source.Integer is not null:
                    if (source.Integer(record) is { } number)
                    {
                        Set(doc, field.Path, number);
                    }

                    break;
                case StoreFieldKind.Boolean when source.Boolean is not null:
                    Set(doc, field.Path, source.Boolean(record));
                    break;
            }
        }

        AddBrowsingFields(doc, record);
        doc["raw"] = Convert.ToBase64String(record.ToByteArray());
        return doc;
    }

    /// <summary>Sets a dotted path, creating the objects on the way (<c>http.favicon.hash</c>).</summary>
    public static void Set(JsonObject root, string path, JsonNode? value)
    {
        var parts = path.Split('.');
        var node = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            if (node[parts[i]] is not JsonObject child)
            {
                if (node.ContainsKey(parts[i]))
                {
                    throw new InvalidOperationException($"document path '{path}' crosses the non-object field '{parts[i]}'");
                }

                child = new JsonObject();
                node[parts[i]] = child;
            }

            node = child;
        }

        node[parts[^1]] = value;
    }

    /// <summary>Structured-section fields no filter uses yet, mapped so Kibana-style browsing and future filters work.</summary>
    private static void AddBrowsingFields(JsonObject doc, ServiceRecord record)
    {
        OptionalPath(doc, "info", record.Info);
        OptionalPath(doc, "device_type", record.DeviceType);
        OptionalPath(doc, "scanner", record.Scanner);
        OptionalPath(doc, "scan_id", record.ScanId);
        doc["outcome"] = BannerJson.OutcomeName(record.Outcome);
        if (record.Location is { } location)
        {
            OptionalPath(doc, "location.country_name", location.CountryName);
            OptionalPath(doc, "location.postal_code", location.PostalCode);
            OptionalPath(doc, "location.continent_code", location.ContinentCode);
            if (location.HasCoordinates)
            {
                Set(doc, "location.geo", new JsonObject { ["lat"] = location.Latitude, ["lon"] = location.Longitude });
            }
        }

        if (record.Http is { } http)
        {
            OptionalPath(doc, "http.host", http.Host);
            OptionalPath(doc, "http.location", http.Location);
            OptionalPath(doc, "http.waf", http.Waf);
            if (http.Components.Count > 0)
            {
                Set(doc, "http.components", new JsonArray(http.Components.Distinct(StringComparer.Ordinal).Select(c => (JsonNode?)c).ToArray()));
            }
        }

        if (record.Ssl is { } ssl)
        {
            OptionalPath(doc, "ssl.version", ssl.Version);
            OptionalPath(doc, "ssl.alpn", ssl.Alpn);
            OptionalPath(doc, "ssl.jarm", ssl.Jarm);
            if (ssl.CipherBits > 0)
            {
                Set(doc, "ssl.cipher.bits", ssl.CipherBits);
            }

            if (DocumentFields.Leaf(record) is { } cert)
            {
                OptionalPath(doc, "ssl.cert.subject.o", cert.Subject?.Organization);
                OptionalPath(doc, "ssl.cert.issuer.o", cert.Issuer?.Organization);
                OptionalPath(doc, "ssl.cert.sig_alg", cert.SignatureAlgorithm);
                OptionalPath(doc, "ssl.cert.pubkey.type", cert.PublicKeyType);
                if (cert.PublicKeyBits > 0)
                {
                    Set(doc, "ssl.cert.pubkey.bits", cert.PublicKeyBits);
                }

                Set(doc, "ssl.cert.self_signed", cert.SelfSigned);
                if (cert.NotBefore is { } notBefore)
                {
                    Set(doc, "ssl.cert.not_before", FormatDate(Micros(notBefore)));
                }

                if (cert.NotAfter is { } notAfter)
                {
                    Set(doc, "ssl.cert.not_after", FormatDate(Micros(notAfter)));
                }

                if (cert.SubjectAltNames.Count > 0)
                {
                    Set(doc, "ssl.cert.san", new JsonArray(cert.SubjectAltNames.Distinct(StringComparer.Ordinal).Select(s => (JsonNode?)s).ToArray()));
                }
            }
        }

        if (record.Ssh is { } ssh)
        {
            OptionalPath(doc, "ssh.banner", ssh.Banner);
        }

        JsonObject? protocols = null;
        foreach (var section in ProtocolSections)
        {
            if (section.Accessor.HasValue(record) && section.Accessor.GetValue(record) is IMessage message)
            {
                protocols ??= [];
                protocols[section.JsonName] = JsonNode.Parse(SectionFormatter.Format(message));
            }
        }

        if (protocols is not null)
        {
            doc["protocols"] = protocols;
        }

        if (record.Opts.Count > 0)
        {
            var opts = new JsonObject();
            foreach (var (name, value) in record.Opts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                opts[name] = value;
            }

            doc["opts"] = opts;
        }
    }

    private static void Optional(JsonObject doc, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            doc[name] = value;
        }
    }

    private static void OptionalPath(JsonObject doc, string path, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            Set(doc, path, value);
        }
    }
}
