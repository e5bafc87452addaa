using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text.Json;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Contracts.Json;

/// <summary>Store-side facts about a banner that are not part of the observation itself.</summary>
public readonly record struct BannerMetadata(DateTime? FirstSeen, DateTime? LastSeen, string? RecordId, uint Observations);

/// <summary>
/// Writes a <see cref="ServiceRecord"/> as a Shodan banner (Shodan's banner specification field names:
/// ip, ip_str, port, transport, timestamp, hash, data, product, version, cpe, cpe23, location, http, ssl, ssh,
/// _shodan ...), so Shodan clients and tooling read our output unchanged. Fields Shodan does not define live
/// under <c>_exposure</c>. Used by the Crawler's NDJSON output, exports and the REST API alike.
/// </summary>
public static class BannerJson
{
    /// <summary>Shodan's timestamp form: UTC, microseconds, no zone suffix.</summary>
    public const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff";

    public static string Serialize(ServiceRecord record, BannerMetadata? metadata = null, bool minify = false)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            Write(writer, record, metadata, minify);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes one banner object. <paramref name="minify"/> drops bulky bodies (html, favicon data, cert chain), as Shodan's minify does.</summary>
    public static void Write(Utf8JsonWriter writer, ServiceRecord record, BannerMetadata? metadata = null, bool minify = false)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);

        writer.WriteStartObject();
        WriteAddress(writer, record.Ip);
        writer.WriteNumber("port", record.Port);
        writer.WriteString("transport", TransportNames.ToText(record.Transport));
        writer.WriteString("timestamp", FormatTimestamp(record.Timestamp));
        writer.WriteNumber("hash", MurmurHash3.Hash32(record.Data.Span));
        writer.WriteString("data", BannerText.Decode(record.Data.Span));
        WriteOptional(writer, "product", record.Product);
        WriteOptional(writer, "version", record.Version);
        WriteOptional(writer, "info", record.Info);
        WriteOptional(writer, "os", record.Os);
        WriteOptional(writer, "devicetype", record.DeviceType);

        if (record.Cpe23.Count > 0)
        {
            writer.WriteStartArray("cpe");
            foreach (var cpe in record.Cpe23)
            {
                if (Cpe.TryToUri(cpe, out var uri))
                {
                    writer.WriteStringValue(uri);
                }
            }

            writer.WriteEndArray();
            WriteStrings(writer, "cpe23", record.Cpe23);
        }

        if (record.Tags.Count > 0)
        {
            WriteStrings(writer, "tags", record.Tags);
        }

        WriteStrings(writer, "hostnames", record.Hostnames);
        WriteStrings(writer, "domains", record.Domains);
        WriteLocation(writer, record.Location);
        WriteNullable(writer, "asn", record.Asn);
        WriteNullable(writer, "org", record.Org);
        WriteNullable(writer, "isp", record.Isp);

        if (record.Http is not null)
        {
            WriteHttp(writer, record.Http, minify);
        }

        if (record.Ssl is not null)
        {
            WriteSsl(writer, record.Ssl, minify);
        }

        if (record.Ssh is not null)
        {
            WriteSsh(writer, record.Ssh);
        }

        WriteProtocolSections(writer, record);

        if (record.Opts.Count > 0)
        {
            writer.WriteStartObject("opts");
            foreach (var (key, value) in record.Opts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        writer.WriteStartObject("_shodan");
        writer.WriteString("id", metadata?.RecordId ?? RecordIdentity.Compute(record));
        writer.WriteString("module", string.IsNullOrEmpty(record.Module) ? "unknown" : record.Module);
        writer.WriteString("crawler", record.Scanner);
        writer.WriteBoolean("ptr", record.Hostnames.Count > 0);
        writer.WriteStartObject("options");
        writer.WriteEndObject();
        writer.WriteEndObject();

        writer.WriteStartObject("_exposure");
        writer.WriteString("source", SourceName(record.Source));
        writer.WriteString("outcome", OutcomeName(record.Outcome));
        WriteOptional(writer, "error", record.Error);
        WriteOptional(writer, "scan_id", record.ScanId);
        if (metadata is { } meta)
        {
            if (meta.FirstSeen is { } first)
            {
                writer.WriteString("first_seen", first.ToString(TimestampFormat, CultureInfo.InvariantCulture));
            }

            if (meta.LastSeen is { } last)
            {
                writer.WriteString("last_seen", last.ToString(TimestampFormat, CultureInfo.InvariantCulture));
            }

            if (meta.Observations > 0)
            {
                writer.WriteNumber("observations", meta.Observations);
            }
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static string FormatTimestamp(Timestamp? timestamp)
        => (timestamp?.ToDateTime() ?? DateTime.UnixEpoch).ToString(TimestampFormat, CultureInfo.InvariantCulture);

    public static string SourceName(RecordSource source) => source switch
    {
        RecordSource.ActiveScan => "active",
        RecordSource.Import => "import",
        RecordSource.Passive => "passive",
        _ => "unknown",
    };

    public static string OutcomeName(GrabOutcome outcome) => outcome switch
    {
        GrabOutcome.Success => "success",
        GrabOutcome.Refused => "refused",
        GrabOutcome.ConnectTimeout => "connect_timeout",
        GrabOutcome.Closed => "closed",
        GrabOutcome.IoTimeout => "io_timeout",
        GrabOutcome.HandshakeError => "handshake_error",
        GrabOutcome.ProtocolError => "protocol_error",
        GrabOutcome.Blocklisted => "blocklisted",
        _ => "unknown",
    };

    /// <summary>Shodan's integer form of an IPv4 address (network byte order as an unsigned number).</summary>
    public static bool TryGetIPv4Integer(string ip, out uint value)
    {
        value = 0;
        if (!IPAddress.TryParse(ip, out var address) || address.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
        return true;
    }

    private static void WriteAddress(Utf8JsonWriter writer, string ip)
    {
        if (TryGetIPv4Integer(ip, out var numeric))
        {
            writer.WriteNumber("ip", numeric);
        }
        else
        {
            writer.WriteString("ipv6", ip);
        }

        writer.WriteString("ip_str", ip);
    }

    private static void WriteLocation(Utf8JsonWriter writer, Location? location)
    {
        writer.WriteStartObject("location");
        WriteLocationFields(writer, location);
        writer.WriteEndObject();
    }

    /// <summary>
    /// Shodan's location fields (city, region_code, postal_code, country_code, country_name, latitude, longitude,
    /// area_code, dma_code), nulls where unknown. A banner nests them under "location"; a host object has them at
    /// its top level.
    /// </summary>
    public static void WriteLocationFields(Utf8JsonWriter writer, Location? location)
    {
        ArgumentNullException.ThrowIfNull(writer);
        WriteNullable(writer, "city", location?.City);
        WriteNullable(writer, "region_code", location?.RegionCode);
        WriteNullable(writer, "postal_code", location?.PostalCode);
        WriteNullable(writer, "country_code", location?.CountryCode);
        WriteNullable(writer, "country_name", location?.CountryName);
        if (location is { HasCoordinates: true })
        {
            writer.WriteNumber("latitude", location.Latitude);
            writer.WriteNumber("longitude", location.Longitude);
        }
        else
        {
            writer.WriteNull("latitude");
            writer.WriteNull("longitude");
        }

        writer.WriteNull("area_code");
        writer.WriteNull("dma_code");
    }

    private static void WriteHttp(Utf8JsonWriter writer, HttpSection http, bool minify)
    {
        writer.WriteStartObject("http");
        writer.WriteNumber("status", http.Status);
        WriteNullable(writer, "title", http.Title);
        WriteNullable(writer, "server", http.Server);
        WriteNullable(writer, "host", http.Host);
        WriteNullable(writer, "location", http.Location);
        writer.WriteNumber("html_hash", http.HtmlHash);
        if (!minify)
        {
            writer.WriteString("html", BannerText.Decode(http.Html.Span));
        }

        writer.WriteStartArray("redirects");
        foreach (var redirect in http.Redirects)
        {
            writer.WriteStartObject();
            writer.WriteString("host", redirect.Host);
            writer.WriteString("location", redirect.Location);
            writer.WriteNumber("status", redirect.Status);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteBoolean("robots", http.RobotsPresent);
        if (http.RobotsPresent)
        {
            writer.WriteNumber("robots_hash", http.RobotsHash);
        }

        if (http.Favicon is { } favicon)
        {
            writer.WriteStartObject("favicon");
            writer.WriteNumber("hash", favicon.Hash);
            writer.WriteString("location", favicon.Location);
            if (!minify && !favicon.Data.IsEmpty)
            {
                writer.WriteString("data", Convert.ToBase64String(favicon.Data.Span));
            }

            writer.WriteEndObject();
        }

        if (http.Components.Count > 0)
        {
            writer.WriteStartObject("components");
            foreach (var component in http.Components)
            {
                writer.WriteStartObject(component);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        WriteOptional(writer, "waf", http.Waf);
        if (http.Headers.Count > 0)
        {
            writer.WriteStartObject("headers");
            foreach (var (key, value) in http.Headers.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase))
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static void WriteSsl(Utf8JsonWriter writer, TlsSection ssl, bool minify)
    {
        writer.WriteStartObject("ssl");
        WriteStrings(writer, "versions", ssl.Versions.Count > 0 ? ssl.Versions : (string.IsNullOrEmpty(ssl.Version) ? [] : [ssl.Version]));
        writer.WriteStartObject("cipher");
        writer.WriteString("version", ssl.Version);
        writer.WriteNumber("bits", ssl.CipherBits);
        writer.WriteString("name", ssl.Cipher);
        writer.WriteEndObject();
        WriteOptional(writer, "ja3s", ssl.Ja3S);
        WriteOptional(writer, "jarm", ssl.Jarm);
        if (!string.IsNullOrEmpty(ssl.Alpn))
        {
            WriteStrings(writer, "alpn", [ssl.Alpn]);
        }

        if (ssl.Starttls)
        {
            writer.WriteBoolean("starttls", true);
        }

        if (ssl.Chain.Count > 0)
        {
            WriteCertificate(writer, ssl.Chain[0]);
            if (!minify)
            {
                writer.WriteStartArray("chain");
                foreach (var cert in ssl.Chain)
                {
                    writer.WriteStringValue(ToPem(cert.Der.Span));
                }

                writer.WriteEndArray();
            }
        }

        writer.WriteEndObject();
    }

    private static void WriteCertificate(Utf8JsonWriter writer, Certificate cert)
    {
        writer.WriteStartObject("cert");
        WriteName(writer, "subject", cert.Subject);
        WriteName(writer, "issuer", cert.Issuer);
        if (TryHexToDecimal(cert.Serial, out var serial))
        {
            writer.WritePropertyName("serial");
            writer.WriteRawValue(serial, skipInputValidation: true);
        }

        writer.WriteString("issued", FormatAsn1Time(cert.NotBefore));
        writer.WriteString("expires", FormatAsn1Time(cert.NotAfter));
        writer.WriteBoolean("expired", cert.Expired);
        writer.WriteBoolean("self_signed", cert.SelfSigned);
        writer.WriteString("sig_alg", cert.SignatureAlgorithm);
        writer.WriteNumber("version", cert.Version);
        writer.WriteStartObject("fingerprint");
        writer.WriteString("sha1", cert.Sha1);
        writer.WriteString("sha256", cert.Sha256);
        writer.WriteEndObject();
        writer.WriteStartObject("pubkey");
        writer.WriteString("type", cert.PublicKeyType);
        writer.WriteNumber("bits", cert.PublicKeyBits);
        writer.WriteEndObject();
        WriteStrings(writer, "subject_alt_names", cert.SubjectAltNames);
        writer.WriteEndObject();
    }

    private static void WriteName(Utf8JsonWriter writer, string property, CertificateName? name)
    {
        writer.WriteStartObject(property);
        if (name is not null)
        {
            WriteOptional(writer, "CN", name.CommonName);
            WriteOptional(writer, "O", name.Organization);
            WriteOptional(writer, "OU", name.OrganizationalUnit);
            WriteOptional(writer, "C", name.Country);
            WriteOptional(writer, "L", name.Locality);
            WriteOptional(writer, "ST", name.State);
            WriteOptional(writer, "emailAddress", name.Email);
        }

        writer.WriteEndObject();
    }

    private static void WriteSsh(Utf8JsonWriter writer, SshSection ssh)
    {
        writer.WriteStartObject("ssh");
        WriteOptional(writer, "type", ssh.Type);
        WriteOptional(writer, "fingerprint", ssh.Fingerprint);
        WriteOptional(writer, "fingerprint_sha256", ssh.FingerprintSha256);
        if (!ssh.Key.IsEmpty)
        {
            writer.WriteString("key", Convert.ToBase64String(ssh.Key.Span));
        }

        WriteOptional(writer, "hassh", ssh.Hassh);
        WriteOptional(writer, "banner", ssh.Banner);
        if (ssh.Kex is { } kex)
        {
            writer.WriteStartObject("kex");
            WriteStrings(writer, "kex_algorithms", kex.KexAlgorithms);
            WriteStrings(writer, "server_host_key_algorithms", kex.ServerHostKeyAlgorithms);
            WriteStrings(writer, "encryption_algorithms", kex.EncryptionAlgorithms);
            WriteStrings(writer, "mac_algorithms", kex.MacAlgorithms);
            WriteStrings(writer, "compression_algorithms", kex.CompressionAlgorithms);
            WriteStrings(writer, "languages", kex.Languages);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    // Sections 43..99 (ftp, smtp, redis, mysql, dns, snmp ...) render generically under their proto field
    // names, which are chosen to match Shodan's banner sections.
    private static readonly JsonFormatter SectionFormatter = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));
    private static readonly Google.Protobuf.Reflection.FieldDescriptor[] ProtocolSectionFields = ServiceRecord.Descriptor.Fields.InFieldNumberOrder()
        .Where(f => f.FieldNumber is >= 43 and < 100 && f.FieldType == Google.Protobuf.Reflection.FieldType.Message)
        .ToArray();

    private static void WriteProtocolSections(Utf8JsonWriter writer, ServiceRecord record)
    {
        foreach (var field in ProtocolSectionFields)
        {
            if (field.Accessor.GetValue(record) is IMessage section)
            {
                writer.WritePropertyName(field.Name);
                writer.WriteRawValue(SectionFormatter.Format(section), skipInputValidation: true);
            }
        }
    }

    private static string FormatAsn1Time(Timestamp? timestamp)
        => timestamp is null ? string.Empty : timestamp.ToDateTime().ToString("yyyyMMddHHmmss'Z'", CultureInfo.InvariantCulture);

    private static bool TryHexToDecimal(string hex, out string text)
    {
        text = string.Empty;
        if (string.IsNullOrEmpty(hex) || !BigInteger.TryParse("0" + hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        text = value.ToString(CultureInfo.InvariantCulture);
        return true;
    }

    private static string ToPem(ReadOnlySpan<byte> der)
        => der.IsEmpty ? string.Empty : new string(System.Security.Cryptography.PemEncoding.Write("CERTIFICATE", der)) + "\n";

    private static void WriteStrings(Utf8JsonWriter writer, string property, IEnumerable<string> values)
    {
        writer.WriteStartArray(property);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    private static void WriteOptional(Utf8JsonWriter writer, string property, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            writer.WriteString(property, value);
        }
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
}
