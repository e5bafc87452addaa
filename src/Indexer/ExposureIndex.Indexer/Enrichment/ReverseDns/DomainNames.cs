namespace ExposureIndex.Indexer.Enrichment.ReverseDns;

/// <summary>
/// The registered domain of a hostname ("www.example.co.uk" -> "example.co.uk"), which Shodan lists under
/// <c>domains</c>. Without network access to the Public Suffix List, a built-in list of the common multi-label
/// public suffixes covers most names; anything else uses the last two labels. Approximate by design.
/// </summary>
internal static class DomainNames
{
    private static readonly HashSet<string> MultiLabelSuffixes = new(StringComparer.OrdinalIgnoreCase)
    {
        "co.uk", "org.uk", "ac.uk", "gov.uk", "ltd.uk", "plc.uk", "me.uk", "net.uk",
        "com.au", "net.au", "org.au", "edu.au", "gov.au", "co.nz", "net.nz", "org.nz",
        "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "co.kr", "or.kr", "ne.kr",
        "com.br", "net.br", "org.br", "gov.br", "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn",
        "com.tw", "net.tw", "org.tw", "com.hk", "net.hk", "org.hk", "com.sg", "net.sg", "com.my", "com.ph",
        "co.in", "net.in", "org.in", "gov.in", "ac.in", "co.za", "org.za", "co.id", "or.id", "web.id",
        "com.mx", "com.ar", "com.co", "com.tr", "net.tr", "org.tr", "com.ua", "net.ua", "com.ru", "net.ru",
        "co.il", "org.il", "com.vn", "net.vn", "com.pk", "com.ng", "com.eg", "com.sa", "co.th", "in.th",
        "amazonaws.com", "cloudfront.net", "azurewebsites.net", "cloudapp.net", "herokuapp.com", "googleusercontent.com",
    };

    public static string? RegisteredDomain(string hostname)
    {
        var name = hostname.Trim().TrimEnd('.').ToLowerInvariant();
        var labels = name.Split('.', StringSplitOptions.RemoveEmptyEntries);
        if (labels.Length < 2 || System.Net.IPAddress.TryParse(name, out _))
        {
            return null;
        }

        var lastTwo = labels[^2] + "." + labels[^1];
        if (MultiLabelSuffixes.Contains(lastTwo))
        {
            return labels.Length >= 3 ? labels[^3] + "." + lastTwo : null;
        }

        return lastTwo;
    }
}
