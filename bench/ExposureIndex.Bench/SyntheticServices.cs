using System.Text;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Bench;

/// <summary>
/// Deterministic, realistic-looking synthetic services for store benchmarks: Zipf-like port and product
/// popularity, real-looking banners of 200-1500 bytes, hosts with several services each, GeoIP-like enrichment.
/// </summary>
internal sealed class SyntheticServices
{
    private static readonly (int Port, string Module, double Weight)[] Ports =
    [
        (80, "http", 30), (443, "https", 25), (22, "ssh", 15), (21, "ftp", 4), (25, "smtp", 4), (8080, "http", 5),
        (3306, "mysql", 2), (5432, "postgresql", 1), (6379, "redis", 1), (53, "dns-tcp", 2), (110, "pop3", 1),
        (143, "imap", 1), (8443, "https", 2), (23, "telnet", 1), (3389, "rdp", 1), (11211, "memcached", 0.5),
        (27017, "mongodb", 0.5), (1883, "mqtt", 0.5), (5900, "vnc", 0.5), (9200, "http", 0.3),
    ];

    private static readonly Dictionary<string, (string Product, string[] Versions)[]> Products = new()
    {
        ["http"] = [("nginx", ["1.18.0", "1.22.1", "1.24.0", "1.25.3"]), ("Apache httpd", ["2.4.41", "2.4.57", "2.4.58", "2.2.34"]), ("Microsoft IIS httpd", ["10.0", "8.5"]), ("lighttpd", ["1.4.59"]), ("Jetty", ["9.4.z"]), ("cloudflare", [""])],
        ["https"] = [("nginx", ["1.18.0", "1.22.1"]), ("Apache httpd", ["2.4.57", "2.4.41"]), ("Microsoft IIS httpd", ["10.0"])],
        ["ssh"] = [("OpenSSH", ["7.4", "8.2p1", "8.9p1", "9.2p1", "9.6p1"]), ("Dropbear sshd", ["2020.81", "2022.83"])],
        ["ftp"] = [("vsftpd", ["3.0.3", "2.3.4"]), ("ProFTPD", ["1.3.5", "1.3.8"]), ("Pure-FTPd", [""])],
        ["smtp"] = [("Postfix smtpd", [""]), ("Exim smtpd", ["4.96", "4.94.2"])],
        ["mysql"] = [("MySQL", ["5.7.42", "8.0.35"]), ("MariaDB", ["10.11.6", "10.6.16"])],
        ["postgresql"] = [("PostgreSQL", ["13", "15", "16"])],
        ["redis"] = [("Redis key-value store", ["6.0.16", "7.0.15", "7.2.4"])],
    };

    private static readonly (string Code, string Name, string[] Cities)[] Countries =
    [
        ("US", "United States", ["Ashburn", "San Jose", "Dallas", "New York"]), ("DE", "Germany", ["Frankfurt am Main", "Berlin"]),
        ("CN", "China", ["Beijing", "Shanghai", "Hangzhou"]), ("FR", "France", ["Paris", "Roubaix"]), ("GB", "United Kingdom", ["London"]),
        ("JP", "Japan", ["Tokyo"]), ("NL", "Netherlands", ["Amsterdam"]), ("BR", "Brazil", ["Sao Paulo"]), ("IN", "India", ["Mumbai"]),
        ("SG", "Singapore", ["Singapore"]), ("RU", "Russia", ["Moscow"]), ("KR", "South Korea", ["Seoul"]),
    ];

    private static readonly string[] Orgs =
    [
        "Amazon.com, Inc.", "Google LLC", "Microsoft Corporation", "DigitalOcean, LLC", "Hetzner Online GmbH", "OVH SAS",
        "Alibaba (US) Technology Co., Ltd.", "Linode", "Akamai Technologies", "Cloudflare, Inc.", "China Telecom", "Comcast Cable",
    ];

    private static readonly string[] Titles = ["Welcome to nginx!", "Apache2 Debian Default Page: It works", "IIS Windows Server", "Dashboard", "Login", "403 Forbidden", "Grafana", "Jenkins", "phpMyAdmin", "Index of /"];

    private readonly Random _random;
    private readonly double _portTotal = Ports.Sum(p => p.Weight);
    private readonly DateTime _epoch = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public SyntheticServices(int seed) => _random = new Random(seed);

    /// <summary>Yields <paramref name="count"/> services over roughly count/3 hosts.</summary>
    public IEnumerable<ServiceRecord> Generate(int count)
    {
        var produced = 0;
        while (produced < count)
        {
            var ip = NextIp();
            var country = Countries[Zipf(Countries.Length)];
            var org = Orgs[Zipf(Orgs.Length)];
            var asn = "AS" + (1000 + (Array.IndexOf(Orgs, org) * 977)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var city = country.Cities[_random.Next(country.Cities.Length)];
            var services = 1 + _random.Next(5);
            var usedPorts = new HashSet<int>();
            for (var s = 0; s < services && produced < count; s++)
            {
                var (port, module) = NextPort();
                if (!usedPorts.Add(port))
                {
                    continue;
                }

                yield return Build(ip, port, module, country, city, org, asn);
                produced++;
            }
        }
    }

    private ServiceRecord Build(string ip, int port, string module, (string Code, string Name, string[] Cities) country, string city, string org, string asn)
    {
        var record = new ServiceRecord
        {
            Ip = ip,
            Port = (uint)port,
            Transport = Transport.Tcp,
            Timestamp = Timestamp.FromDateTime(_epoch.AddSeconds(_random.Next(0, 300 * 86400))),
            Source = RecordSource.ActiveScan,
            Module = module,
            Scanner = "bench",
            Asn = asn,
            Org = org,
            Isp = org,
            Location = new Location { CountryCode = country.Code, CountryName = country.Name, City = city, HasCoordinates = true, Latitude = 10 + _random.NextDouble(), Longitude = 20 + _random.NextDouble() },
        };

        var banner = new StringBuilder(512);
        if (Products.TryGetValue(module, out var candidates))
        {
            var (product, versions) = candidates[Zipf(candidates.Length)];
            var version = versions[_random.Next(versions.Length)];
            record.Product = product;
            record.Version = version;
            record.Cpe23.Add($"cpe:2.3:a:{product.ToLowerInvariant().Replace(' ', '_')}:{product.ToLowerInvariant().Replace(' ', '_')}:{(version.Length == 0 ? "*" : version)}:*:*:*:*:*:*:*");
            switch (module)
            {
                case "http" or "https":
                    var title = Titles[Zipf(Titles.Length)];
                    banner.Append("HTTP/1.1 200 OK\r\nServer: ").Append(product.Split(' ')[0]).Append('/').Append(version).Append("\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Length: ")
                        .Append(_random.Next(200, 40000)).Append("\r\nConnection: keep-alive\r\nETag: \"").Append(_random.Next().ToString("x", System.Globalization.CultureInfo.InvariantCulture)).Append("\"\r\n");
                    if (_random.Next(3) == 0)
                    {
                        banner.Append("X-Powered-By: PHP/").Append(7 + _random.Next(2)).Append('.').Append(_random.Next(5)).Append("\r\nSet-Cookie: PHPSESSID=").Append(_random.NextInt64().ToString("x", System.Globalization.CultureInfo.InvariantCulture)).Append("; path=/\r\n");
                    }

                    banner.Append("\r\n");
                    record.Http = new HttpSection { Status = 200, Title = title, Server = product.Split(' ')[0] + "/" + version, HtmlHash = _random.Next(-5000, 5000) };
                    if (module == "https")
                    {
                        record.Tags.Add(_random.Next(4) == 0 ? "self-signed" : "cloud");
                        record.Ssl = new TlsSection { Version = "TLSv1.3", Cipher = "TLS_AES_256_GCM_SHA384", CipherBits = 256 };
                        record.Ssl.Chain.Add(new Certificate { Subject = new CertificateName { CommonName = $"www{_random.Next(100000)}.example.com" }, Issuer = new CertificateName { CommonName = _random.Next(2) == 0 ? "R3" : "DigiCert TLS RSA SHA256 2020 CA1" }, Sha256 = _random.NextInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture) });
                    }

                    break;
                case "ssh":
                    banner.Append("SSH-2.0-").Append(product == "OpenSSH" ? "OpenSSH_" + version : "dropbear_" + version).Append(" Debian-2+deb12u1\r\n\r\nKey type: ssh-ed25519\r\nKey: AAAAC3NzaC1lZDI1NTE5AAAAI").Append(Convert.ToBase64String(BitConverter.GetBytes(_random.NextInt64()))).Append("\r\nFingerprint: ").Append(_random.NextInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture))
                        .Append("\r\n\r\nKex Algorithms:\r\n\tcurve25519-sha256\r\n\tcurve25519-sha256@libssh.org\r\n\tecdh-sha2-nistp256\r\n\tdiffie-hellman-group16-sha512\r\n\r\nServer Host Key Algorithms:\r\n\trsa-sha2-512\r\n\trsa-sha2-256\r\n\tssh-ed25519\r\n\r\nEncryption Algorithms:\r\n\tchacha20-poly1305@openssh.com\r\n\taes128-ctr\r\n\taes256-gcm@openssh.com\r\n");
                    record.Ssh = new SshSection { Type = "ssh-ed25519", Hassh = _random.Next(20).ToString("x32", System.Globalization.CultureInfo.InvariantCulture) };
                    break;
                default:
                    banner.Append("220 ").Append(product).Append(' ').Append(version).Append(" ready.\r\n");
                    break;
            }
        }
        else
        {
            banner.Append("\\x15\\x03\\x01\\x00\\x02\\x02\\n unknown service on port ").Append(port);
        }

        record.Data = ByteString.CopyFromUtf8(banner.ToString());
        if (_random.Next(5) == 0)
        {
            var host = $"host-{ip.Replace('.', '-')}.{org.Split(' ')[0].Trim(',', '.').ToLowerInvariant()}.com";
            record.Hostnames.Add(host);
            record.Domains.Add(host[(host.IndexOf('.', StringComparison.Ordinal) + 1)..]);
        }

        return record;
    }

    private string NextIp()
    {
        // Hosts cluster in /16s the way cloud address space does.
        var block = Zipf(4000);
        return $"{1 + (block % 223)}.{block / 223 * 13 % 256}.{_random.Next(256)}.{_random.Next(1, 255)}";
    }

    private (int Port, string Module) NextPort()
    {
        var x = _random.NextDouble() * _portTotal;
        foreach (var (port, module, weight) in Ports)
        {
            x -= weight;
            if (x <= 0)
            {
                return (port, module);
            }
        }

        var high = _random.Next(1024, 65536);
        return (high, "unknown");
    }

    private int Zipf(int n)
    {
        // Inverse-CDF approximation of a Zipf(1) popularity: cheap and deterministic.
        var u = _random.NextDouble();
        var index = (int)Math.Floor(Math.Pow(n + 1, u)) - 1;
        return Math.Clamp(index, 0, n - 1);
    }
}
