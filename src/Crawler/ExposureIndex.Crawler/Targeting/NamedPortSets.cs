using System.Collections.Frozen;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// Named TCP port sets for <c>-p top100</c> and <c>-p top1000</c>. Our own lists, not nmap's: they are ranked by
/// how often each service is seen exposed on the public internet in published internet-wide scan reports
/// (web and its alternates first, then remote access, mail, databases and caches, IoT/ICS and cameras, VPN and
/// proxies, management consoles). nmap-services is deliberately not used (its licence forbids copying it).
/// </summary>
/// <remarks>
/// top1000 is top100, then <see cref="Extended"/> (services that matter for exposure but are rarer), then the
/// IANA system ports (RFC 6335 §6: 1-1023, where most classic services live) in ascending order until the set
/// holds exactly 1000 ports. Guarded by golden tests: the lists only ever change on purpose.
/// </remarks>
internal static class NamedPortSets
{
    /// <summary>The 100 most commonly exposed TCP services, most common first.</summary>
    public static IReadOnlyList<int> Top100 { get; } =
    [
        80, 443, 22, 8080, 21, 25, 3389, 8443, 23, 53,
        110, 143, 993, 995, 587, 465, 3306, 5432, 445, 139,
        135, 8000, 8888, 8081, 81, 5900, 2222, 1723, 111, 179,
        7547, 6379, 9200, 27017, 11211, 1883, 8883, 5672, 1433, 1521,
        2375, 2376, 6443, 10250, 9090, 5601, 3000, 5000, 5001, 9000,
        8088, 8089, 8008, 8001, 9443, 4443, 10000, 2082, 2083, 2086,
        2087, 8880, 2052, 2053, 2095, 2096, 5985, 5986, 389, 636,
        502, 102, 554, 37777, 34567, 8291, 8728, 5555, 9100, 631,
        1080, 3128, 8118, 5060, 5061, 2049, 873, 119, 6667, 5222,
        25565, 2181, 9092, 8500, 2379, 8086, 9042, 15672, 7001, 8161,
    ];

    /// <summary>Rarer services that still matter for exposure; with top100 and system ports they make top1000.</summary>
    public static IReadOnlyList<int> Extended { get; } =
    [
        // Alternate and vendor web ports.
        82, 83, 84, 85, 86, 88, 89, 90, 591, 593, 800, 808, 1010, 1311, 2000, 2001, 2030, 2031, 2480, 3001, 3002,
        3003, 3005, 3080, 3333, 4000, 4001, 4040, 4080, 4200, 4430, 4431, 4433, 4434, 4567, 4711, 4712, 4848, 4993,
        5002, 5003, 5004, 5005, 5006, 5007, 5008, 5009, 5010, 5080, 5104, 5443, 5800, 5801, 5802, 5984, 5985, 6080,
        6001, 6002, 6003, 6004, 6005, 6006, 6007, 6008, 6009, 6010, 6060, 6443, 6664, 6665, 6666, 6668, 6669, 7000,
        7002, 7003, 7004, 7005, 7070, 7071, 7077, 7080, 7081, 7088, 7090, 7180, 7181, 7443, 7474, 7547, 7548, 7657,
        7777, 7778, 7779, 7800, 7900, 7979, 8002, 8003, 8004, 8005, 8006, 8007, 8009, 8010, 8011, 8012, 8013, 8014,
        8015, 8016, 8017, 8018, 8019, 8020, 8021, 8022, 8023, 8024, 8025, 8026, 8027, 8028, 8029, 8030, 8031, 8032,
        8033, 8034, 8035, 8036, 8037, 8038, 8039, 8040, 8041, 8042, 8043, 8044, 8045, 8046, 8047, 8048, 8049, 8050,
        8060, 8069, 8070, 8071, 8072, 8080, 8082, 8083, 8084, 8085, 8087, 8090, 8091, 8092, 8093, 8094, 8095, 8096,
        8097, 8098, 8099, 8100, 8101, 8112, 8123, 8139, 8140, 8180, 8181, 8182, 8200, 8222, 8243, 8280, 8281, 8333,
        8334, 8383, 8400, 8401, 8402, 8403, 8404, 8405, 8406, 8407, 8408, 8409, 8410, 8411, 8412, 8413, 8414, 8415,
        8416, 8417, 8418, 8419, 8420, 8421, 8422, 8423, 8424, 8425, 8426, 8427, 8428, 8429, 8430, 8431, 8432, 8433,
        8434, 8435, 8436, 8437, 8438, 8439, 8440, 8441, 8442, 8444, 8445, 8446, 8447, 8448, 8449, 8450, 8484, 8500,
        8530, 8531, 8545, 8554, 8600, 8649, 8686, 8765, 8800, 8834, 8843, 8873, 8899, 8983, 8989, 8999, 9001, 9002,
        9003, 9004, 9005, 9006, 9007, 9008, 9009, 9010, 9011, 9012, 9013, 9014, 9015, 9016, 9017, 9018, 9019, 9020,
        9021, 9022, 9023, 9024, 9025, 9026, 9027, 9028, 9029, 9030, 9040, 9043, 9050, 9051, 9060, 9080, 9081, 9082,
        9083, 9084, 9085, 9086, 9087, 9088, 9089, 9091, 9093, 9094, 9095, 9096, 9097, 9098, 9099, 9101, 9102, 9103,
        9110, 9151, 9160, 9191, 9201, 9202, 9203, 9204, 9205, 9206, 9207, 9208, 9209, 9210, 9300, 9301, 9306, 9389,
        9418, 9444, 9445, 9500, 9530, 9595, 9600, 9633, 9663, 9700, 9711, 9800, 9876, 9898, 9943, 9944, 9981, 9988,
        9998, 9999, 10001, 10002, 10003, 10004, 10080, 10081, 10243, 10443, 10554, 11000, 11300, 12000, 12345,
        13579, 14147, 14265, 16010, 16992, 16993, 17000, 18080, 18081, 18245, 19999, 20000, 20547, 21025, 22222,
        23023, 25105, 27015, 27016, 27018, 27019, 28015, 28017, 30000, 31337, 32400, 32764, 33060, 37215, 40000,
        41794, 44818, 47001, 49152, 49153, 49154, 50000, 50050, 50070, 50100, 51106, 52869, 54321, 55443, 55553,
        55554, 60001, 61613, 61614, 61616, 62078, 64738,
        // Remote access, file sharing, directory and VPN.
        1194, 1701, 1812, 2200, 2221, 2223, 2323, 3268, 3269, 3283, 3690, 4022, 4444, 4899, 5631, 5632, 5901,
        5902, 5903, 5904, 5905, 5906, 5938, 6000, 6129, 6588, 7800, 8022, 8200, 9418, 10022, 12222, 20022, 40022,
        // Databases, caches, queues and cluster control planes.
        1434, 1583, 2380, 2424, 2480, 3050, 3351, 4369, 4505, 4506, 5433, 5984, 6000, 6082, 6380, 7199, 7473,
        7687, 8087, 8098, 8529, 9160, 9300, 10255, 10256, 11210, 16379, 18091, 18092, 19000, 26379, 28017,
        // ICS/SCADA, building automation, IoT and cameras.
        789, 1911, 1962, 2404, 2455, 4840, 4911, 5006, 5007, 9600, 18245, 20000, 44818, 47808, 1025, 1026, 1027,
        1028, 1029, 1030, 1900, 3702, 5357, 5683, 8554, 8899, 9527, 49155, 49156,
    ];

    public const int Top1000Count = 1000;

    /// <summary>The sets by name, as written in a port spec (case-insensitive).</summary>
    public static FrozenDictionary<string, PortSet> ByName { get; } = new Dictionary<string, PortSet>(StringComparer.OrdinalIgnoreCase)
    {
        ["top100"] = PortSet.Of([.. Top100]),
        ["top1000"] = BuildTop1000(),
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    public static bool TryGet(string name, out PortSet ports)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByName.TryGetValue(name, out ports!);
    }

    /// <summary>Ranked: top100 first, then the extended list, then system ports ascending until 1000 distinct ports.</summary>
    public static IReadOnlyList<int> Top1000Ranked { get; } = RankTop1000();

    private static List<int> RankTop1000()
    {
        var seen = new HashSet<int>();
        var ranked = new List<int>(Top1000Count);
        foreach (var port in Top100.Concat(Extended).Concat(Enumerable.Range(1, 1023)))
        {
            if (ranked.Count == Top1000Count)
            {
                break;
            }

            if (seen.Add(port))
            {
                ranked.Add(port);
            }
        }

        return ranked;
    }

    private static PortSet BuildTop1000() => PortSet.Of([.. RankTop1000()]);
}
