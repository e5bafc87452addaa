using System.Text.RegularExpressions;
using ExposureIndex.Contracts;

namespace ExposureIndex.Grabbers.Dns;

/// <summary>
/// Maps version.bind answers to products. Each server formats its answer its own way; an answer we do not
/// recognise (operators often set it to a joke or "none") names no product.
/// </summary>
internal static partial class DnsSoftware
{
    public static bool TryParse(string? software, out ProductMatch product)
    {
        product = null!;
        if (string.IsNullOrWhiteSpace(software))
        {
            return false;
        }

        var text = software.Trim();
        Match m;
        if ((m = Bind().Match(text)).Success)
        {
            // BIND answers its own version string: "9.18.24-1-Debian", "9.16.1-Ubuntu", "BIND 9.11.4-P2-RedHat-9.11.4-26.P2.el7".
            var version = m.Groups["v"].Value;
            var rest = text[(m.Index + m.Length)..];
            string? info = null;
            if (rest.Contains("Debian", StringComparison.OrdinalIgnoreCase))
            {
                info = "Debian";
            }
            else if (rest.Contains("Ubuntu", StringComparison.OrdinalIgnoreCase))
            {
                info = "Ubuntu";
            }
            else if (rest.Contains("RedHat", StringComparison.OrdinalIgnoreCase))
            {
                info = "Red Hat";
            }

            product = new ProductMatch("ISC BIND", version, info, info is null ? null : "Linux", Cpe.Application("isc", "bind", version));
            return true;
        }

        foreach (var (pattern, name, vendor, cpeProduct) in Others)
        {
            if ((m = pattern.Match(text)).Success)
            {
                var version = m.Groups["v"].Success ? m.Groups["v"].Value : null;
                product = new ProductMatch(name, version, null, name.StartsWith("Microsoft", StringComparison.Ordinal) ? "Windows" : null, Cpe.Application(vendor, cpeProduct, version));
                return true;
            }
        }

        return false;
    }

    private static readonly (Regex Pattern, string Name, string Vendor, string CpeProduct)[] Others =
    [
        (new Regex(@"^dnsmasq-(?<v>\d+(?:\.\d+)+\w*)", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), "dnsmasq", "thekelleys", "dnsmasq"),
        (new Regex(@"^unbound(?: (?<v>\d+(?:\.\d+)+))?", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), "Unbound", "nlnetlabs", "unbound"),
        (new Regex(@"^NSD(?: (?<v>\d+(?:\.\d+)+))?", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), "NSD", "nlnetlabs", "nsd"),
        (new Regex(@"^PowerDNS Authoritative Server(?: (?<v>\d+(?:\.\d+)+))?", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), "PowerDNS Authoritative Server", "powerdns", "authoritative"),
        (new Regex(@"^PowerDNS Recursor(?: (?<v>\d+(?:\.\d+)+))?", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), "PowerDNS Recursor", "powerdns", "recursor"),
        (new Regex(@"^Knot DNS(?: (?<v>\d+(?:\.\d+)+))?", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), "Knot DNS", "nic", "knot_dns"),
        (new Regex(@"^Knot Resolver(?: (?<v>\d+(?:\.\d+)+))?", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), "Knot Resolver", "nic", "knot_resolver"),
        (new Regex(@"^Microsoft DNS(?: (?<v>\d+(?:\.\d+)+))?", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), "Microsoft DNS", "microsoft", "dns_server"),
        (new Regex(@"^CoreDNS(?:-(?<v>\d+(?:\.\d+)+))?", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), "CoreDNS", "coredns.io", "coredns"),
    ];

    [GeneratedRegex(@"^(?:BIND )?(?<v>9\.\d+\.\d+(?:-P\d+|-S\d+|rc\d+|b\d+|a\d+)?)(?=$|[-~+ ])", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Bind();
}
