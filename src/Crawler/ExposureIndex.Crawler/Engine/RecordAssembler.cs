using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Grabbers;
using Google.Protobuf;

namespace ExposureIndex.Crawler.Engine;

/// <summary>
/// Turns what the probe engine and the deep grabbers learned about one service into one record. Pure. The
/// grabbers' fragments merge in order (protobuf merge semantics for the structured sections); a grabber's
/// product and version win over the probe match's, the probe's CPE stays when no grabber gives one, and the
/// data is the most informative banner: a grabber's, else the probe answer that matched, else the NULL banner.
/// </summary>
internal static class RecordAssembler
{
    /// <summary>Services that are databases or data stores (Shodan's <c>database</c> tag).</summary>
    private static readonly HashSet<string> Databases = new(StringComparer.OrdinalIgnoreCase)
    {
        "redis", "mysql", "postgresql", "mongodb", "mongod", "memcached", "elasticsearch", "couchdb", "cassandra", "influxdb",
        "ms-sql-s", "oracle-tns", "riak", "neo4j", "clickhouse", "couchbase", "rethinkdb", "arangodb", "etcd", "zookeeper",
        "pgbouncer", "mariadb", "cockroachdb", "hbase", "orientdb",
    };

    public static ServiceRecord Assemble(ServiceIdentification identification, IReadOnlyList<GrabResult> grabs, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(identification);
        ArgumentNullException.ThrowIfNull(grabs);
        var record = new ServiceRecord();
        var fingerprint = identification.Fingerprint;
        var service = identification.Service;
        if (service is not null)
        {
            record.Module = service;
        }
        else if (identification.Tls)
        {
            record.Module = "ssl";
        }

        if (fingerprint is not null)
        {
            record.Product = fingerprint.Product ?? string.Empty;
            record.Version = fingerprint.Version ?? string.Empty;
            record.Info = fingerprint.Info ?? string.Empty;
            record.Os = fingerprint.Os ?? string.Empty;
            record.DeviceType = fingerprint.DeviceType ?? string.Empty;
            if (fingerprint.Hostname is { } host)
            {
                record.Hostnames.Add(host);
            }

            record.Cpe23.AddRange(fingerprint.Cpe23);
        }

        var probeCpes = record.Cpe23.ToList();
        var probeModule = record.Module;
        ByteString? grabberData = null;
        var tags = new List<string>();
        foreach (var grab in grabs)
        {
            var fragment = grab.Fragment;
            if (fragment is null)
            {
                continue;
            }

            var product = record.Product;
            var version = record.Version;
            var info = record.Info;
            var os = record.Os;
            var cpes = record.Cpe23.ToList();
            tags.AddRange(fragment.Tags);
            record.MergeFrom(fragment);

            // Scalars: a grabber's non-empty value wins (MergeFrom already did that); repeated fields must not pile up.
            record.Cpe23.Clear();
            record.Cpe23.AddRange(fragment.Cpe23.Count > 0 ? fragment.Cpe23 : cpes);
            if (string.IsNullOrEmpty(fragment.Product))
            {
                record.Product = product;
            }

            if (string.IsNullOrEmpty(fragment.Version)
                && (string.IsNullOrEmpty(fragment.Product) || string.Equals(fragment.Product, product, StringComparison.OrdinalIgnoreCase)))
            {
                // Same product, no version from the grabber (e.g. a hidden Server header): the probe's version stands.
                record.Version = version;
            }

            record.Info = string.IsNullOrEmpty(fragment.Info) ? info : fragment.Info;
            record.Os = string.IsNullOrEmpty(fragment.Os) ? os : fragment.Os;
            if (!fragment.Data.IsEmpty && grabberData is null)
            {
                grabberData = fragment.Data;
            }
        }

        // The module names the service, not the tunnel: a service grabber's module ("https", "smtp") wins, then
        // the probe engine's service, and "ssl" only when nothing inside the TLS was named.
        var serviceModule = grabs.Select(g => g.Fragment?.Module).FirstOrDefault(m => !string.IsNullOrEmpty(m) && m != "ssl");
        record.Module = serviceModule ?? (string.IsNullOrEmpty(probeModule) ? record.Module : probeModule);

        if (record.Cpe23.Count == 0)
        {
            record.Cpe23.AddRange(probeCpes);
        }

        if (string.IsNullOrEmpty(record.Module) && ModuleGuess.FromBanner(identification.Banner, port) is { } guess)
        {
            // Nothing matched: a first guess from the opening bytes, as the v1 crawler made.
            record.Module = guess;
        }

        var data = grabberData is not null ? grabberData
            : identification.Response.Length > 0 ? ByteString.CopyFrom(identification.Response)
            : ByteString.CopyFrom(identification.Banner);
        record.Data = data;
        record.Tags.Clear();
        foreach (var tag in tags.Concat(DeriveTags(record, identification)).Distinct(StringComparer.Ordinal))
        {
            record.Tags.Add(tag);
        }

        if (identification.Tls)
        {
            record.Opts["tunnel"] = "ssl";
        }

        if (fingerprint is not null)
        {
            record.Opts["probe"] = identification.ProbeName ?? string.Empty;
            record.Opts["match"] = $"{fingerprint.Match.File}:{fingerprint.Match.Line}";
            if (fingerprint.IsSoft)
            {
                record.Opts["softmatch"] = "true";
            }
        }

        return record;
    }

    /// <summary>Tags read from the record's sections and service (Shodan's vocabulary).</summary>
    public static IEnumerable<string> DeriveTags(ServiceRecord record, ServiceIdentification identification)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (Databases.Contains(record.Module) || (identification.Service is { } s && Databases.Contains(s)))
        {
            yield return "database";
        }

        if (record.Ssl is { } ssl)
        {
            if (ssl.Chain.Count > 0 && ssl.Chain[0].SelfSigned)
            {
                yield return "self-signed";
            }

            if (ssl.Chain.Count > 0 && ssl.Chain[0].Expired)
            {
                yield return "expired-cert";
            }

            if (ssl.Starttls)
            {
                yield return "starttls";
            }
        }
    }
}
