using ExposureIndex.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Storage.Tests.Conformance;

/// <summary>
/// The fixed set of services every store backend must answer the same way. Hosts use documentation-free
/// public-looking addresses: nothing here is ever contacted, these are only stored values.
/// </summary>
internal static class ConformanceFixtures
{
    public static readonly DateTime T0 = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    public static ServiceRecord Record(string ip, uint port, string data, string product = "", string version = "", Transport transport = Transport.Tcp, DateTime? at = null, string module = "")
        => new()
        {
            Ip = ip,
            Port = port,
            Transport = transport,
            Timestamp = Timestamp.FromDateTime(at ?? T0),
            Data = ByteString.CopyFromUtf8(data),
            Product = product,
            Version = version,
            Module = module,
            Source = RecordSource.ActiveScan,
            Scanner = "conformance",
        };

    public static List<ServiceRecord> All()
    {
        var records = new List<ServiceRecord>();

        var web1 = Record("8.8.4.4", 80, "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n\r\n", "nginx", "1.22.1", module: "http");
        web1.Location = new Location { CountryCode = "US", CountryName = "United States", City = "Mountain View", RegionCode = "CA", HasCoordinates = true, Latitude = 37.4, Longitude = -122.1 };
        web1.Asn = "AS15169";
        web1.Org = "Google LLC";
        web1.Isp = "Google LLC";
        web1.Hostnames.Add("dns.google");
        web1.Domains.Add("dns.google");
        web1.Http = new HttpSection { Status = 200, Title = "Welcome to nginx!", Server = "nginx/1.22.1", HtmlHash = -1234567, Favicon = new HttpFavicon { Hash = 116323821, Location = "/favicon.ico" } };
        web1.Cpe23.Add("cpe:2.3:a:f5:nginx:1.22.1:*:*:*:*:*:*:*");
        records.Add(web1);

        var tls = Record("8.8.4.4", 443, "HTTP/1.1 301 Moved Permanently\r\nServer: nginx/1.22.1\r\nLocation: https://dns.google/\r\n\r\n", "nginx", "1.22.1", module: "https");
        tls.Location = web1.Location.Clone();
        tls.Asn = "AS15169";
        tls.Org = "Google LLC";
        tls.Hostnames.Add("www.dns.google");
        tls.Tags.Add("self-signed");
        tls.Http = new HttpSection { Status = 301, Title = string.Empty, Server = "nginx/1.22.1" };
        tls.Ssl = new TlsSection { Version = "TLSv1.3", Cipher = "TLS_AES_256_GCM_SHA384", CipherBits = 256, Ja3S = "15af977ce25de452b96affa2addb1036" };
        tls.Ssl.Versions.Add("TLSv1.2");
        tls.Ssl.Versions.Add("TLSv1.3");
        tls.Ssl.Chain.Add(new Certificate
        {
            Subject = new CertificateName { CommonName = "dns.google" },
            Issuer = new CertificateName { CommonName = "dns.google" },
            Serial = "03E8",
            Expired = true,
            SelfSigned = true,
            Sha1 = "0123456789abcdef0123456789abcdef01234567",
            Sha256 = "aa00000000000000000000000000000000000000000000000000000000000000",
        });
        records.Add(tls);

        var ssh = Record("1.1.1.1", 22, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", "OpenSSH", "9.2p1", module: "ssh");
        ssh.Location = new Location { CountryCode = "AU", CountryName = "Australia", City = "Sydney", RegionCode = "NSW" };
        ssh.Asn = "AS13335";
        ssh.Org = "Cloudflare, Inc.";
        ssh.Os = "Debian";
        ssh.Ssh = new SshSection { Type = "ssh-ed25519", Hassh = "a0a84e4a4b3d6c6e1e9e55c2d71ecfa8", Fingerprint = "dc:14:de:8e:d7:c1:15:43:23:82:25:81:d2:59:e8:c0" };
        ssh.Cpe23.Add("cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*");
        records.Add(ssh);

        var ftp = Record("1.1.1.1", 21, "220 (vsFTPd 3.0.3)\r\n", "vsftpd", "3.0.3", module: "ftp");
        ftp.Location = ssh.Location.Clone();
        ftp.Asn = "AS13335";
        ftp.Org = "Cloudflare, Inc.";
        records.Add(ftp);

        var apache = Record("9.9.9.9", 80, "HTTP/1.1 200 OK\r\nServer: Apache/2.4.57 (Debian)\r\n\r\n", "Apache httpd", "2.4.57", module: "http");
        apache.Location = new Location { CountryCode = "CH", CountryName = "Switzerland", City = "Zurich" };
        apache.Asn = "AS19281";
        apache.Org = "Quad9";
        apache.Http = new HttpSection { Status = 200, Title = "Apache2 Debian Default Page: It works", Server = "Apache/2.4.57 (Debian)" };
        apache.Cpe23.Add("cpe:2.3:a:apache:http_server:2.4.57:*:*:*:*:*:*:*");
        records.Add(apache);

        var apacheOld = Record("9.9.9.10", 8080, "HTTP/1.1 403 Forbidden\r\nServer: Apache/2.4.41 (Ubuntu)\r\n\r\n", "Apache httpd", "2.4.41", module: "http", at: T0.AddDays(-400));
        apacheOld.Location = new Location { CountryCode = "DE", CountryName = "Germany", City = "Frankfurt am Main" };
        apacheOld.Asn = "AS24940";
        apacheOld.Org = "Hetzner Online GmbH";
        apacheOld.Http = new HttpSection { Status = 403, Title = "403 Forbidden", Server = "Apache/2.4.41 (Ubuntu)" };
        records.Add(apacheOld);

        var redis = Record("9.9.9.10", 6379, "-NOAUTH Authentication required.\r\n", "Redis key-value store", "7.0.15", module: "redis");
        redis.Location = apacheOld.Location.Clone();
        redis.Asn = "AS24940";
        redis.Org = "Hetzner Online GmbH";
        redis.Tags.Add("database");
        records.Add(redis);

        var dns = Record("2001:4860:4860::8888", 53, "\u0000\u0006version: 9.18.24", "ISC BIND", "9.18.24", Transport.Udp, module: "dns-udp");
        dns.Location = web1.Location.Clone();
        dns.Asn = "AS15169";
        dns.Org = "Google LLC";
        records.Add(dns);

        var passive = Record("4.2.2.2", 25, "220 mail.example.net ESMTP Postfix (Debian/GNU)\r\n", "Postfix smtpd", "", module: "smtp");
        passive.Source = RecordSource.Passive;
        passive.Location = new Location { CountryCode = "US", CountryName = "United States", City = "Austin", RegionCode = "TX" };
        passive.Asn = "AS3356";
        passive.Org = "Level 3 Parent, LLC";
        passive.Isp = "Lumen";
        passive.Hostnames.Add("mail.example.net");
        passive.Domains.Add("example.net");
        records.Add(passive);

        var unknown = Record("4.2.2.2", 31337, "\u0015\u0003\u0001\u0000\u0002\u0002\n", module: "unknown");
        unknown.Location = passive.Location.Clone();
        unknown.Asn = "AS3356";
        unknown.Org = "Level 3 Parent, LLC";
        records.Add(unknown);

        return records;
    }

    /// <summary>Queries and their expected counts over <see cref="All"/>: the contract every backend meets.</summary>
    public static IEnumerable<(string Query, int Count)> Expectations() =>
    [
        (string.Empty, 10),
        ("port:80", 2),
        ("port:80,443", 3),
        ("-port:80", 8),
        ("port:22 product:OpenSSH", 1),
        ("product:\"Apache httpd\"", 2),
        ("product:\"apache HTTPD\"", 2),
        ("product:\"Apache httpd\" version:2.4.57", 1),
        ("product:\"Apache httpd\" -country:DE", 1),
        ("product:nginx*", 2),
        ("version:2.4.*", 2),
        ("ip:8.8.4.4", 2),
        ("net:9.9.9.0/24", 3),
        ("net:9.9.9.8/31", 1),
        ("net:2001:4860::/32", 1),
        ("ip:2001:4860:4860::8888", 1),
        ("transport:udp", 1),
        ("transport:tcp", 9),
        ("hostname:dns.google", 2),
        ("hostname:google", 2),
        ("hostname:oogle", 0),
        ("hostname:ns.google", 0),
        ("hostname:example.net", 1),
        ("domain:example.net", 1),
        ("country:us", 5),
        ("country:US,AU", 7),
        ("city:\"Mountain View\"", 3),
        ("city:\"Sydney,Zurich\"", 3),
        ("region:CA", 3),
        ("asn:15169", 3),
        ("asn:AS13335", 2),
        ("org:google", 3),
        ("org:\"Hetzner Online\"", 2),
        ("isp:lumen", 1),
        ("os:debian", 1),
        ("module:http", 3),
        ("tag:database", 1),
        ("tag:self-signed", 1),
        ("cpe:\"cpe:2.3:a:apache:http_server\"", 1),
        ("cpe:\"cpe:/a:openbsd:openssh:9.2p1\"", 1),
        ("source:passive", 1),
        ("source:active", 9),
        ("http.title:nginx", 1),
        ("http.title:\"it works\"", 1),
        ("http.status:403", 1),
        ("http.server:apache", 2),
        ("http.html_hash:-1234567", 1),
        ("http.favicon.hash:116323821", 1),
        ("has_ssl:true", 1),
        ("has_ssl:false", 9),
        ("ssl.cert.subject.cn:dns.google", 1),
        ("ssl.cert.issuer.cn:DNS.GOOGLE", 1),
        ("ssl.cert.serial:1000", 1),
        ("ssl.cert.serial:0x3e8", 1),
        ("ssl.cert.fingerprint:0123456789abcdef0123456789abcdef01234567", 1),
        ("ssl.cert.expired:true", 1),
        ("ssl.version:tlsv1.3", 1),
        ("ssl.cipher.name:TLS_AES_256_GCM_SHA384", 1),
        ("ssl.ja3s:15af977ce25de452b96affa2addb1036", 1),
        ("ssh.hassh:a0a84e4a4b3d6c6e1e9e55c2d71ecfa8", 1),
        ("ssh.type:ssh-ed25519", 1),
        ("ssh.fingerprint:dc:14:de:8e:d7:c1:15:43:23:82:25:81:d2:59:e8:c0", 1),
        ("before:2025-06-01", 1),
        ("after:2025-06-01", 9),
        ("nginx", 2),
        ("NGINX", 2),
        ("\"Server: nginx\"", 2),
        ("-nginx", 8),
        ("apache debian", 1),
        ("\"Apache/2.4.57 (Debian)\"", 1),
        ("authentication required", 1),
        ("\"required authentication\"", 0),
        ("esmtp port:25 country:US", 1),
    ];
}
