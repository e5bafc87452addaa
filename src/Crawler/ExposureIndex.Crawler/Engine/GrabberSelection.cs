using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;

namespace ExposureIndex.Crawler.Engine;

/// <summary>Which deep grabbers run after identification.</summary>
internal static class GrabberSelection
{
    /// <summary>
    /// For a service inside TLS, the TLS grabbers first (certificate, JA3S); then the grabbers for the identified
    /// service; when nothing was identified, the grabbers whose usual ports include this one.
    /// </summary>
    public static IReadOnlyList<IGrabber> Select(string? service, int port, Transport transport, bool tls)
    {
        var selected = new List<IGrabber>();
        if (tls)
        {
            // The TLS view first (certificate, JA3S), so the service's own grabber merges over it.
            selected.AddRange(GrabberCatalog.ForService("ssl", transport));
        }

        if (service is "tcpwrapped")
        {
            return selected;
        }

        var forService = service is null ? [] : GrabberCatalog.ForService(service, transport).ToList();
        var more = forService.Count > 0 || service is not null ? forService : GrabberCatalog.ForPort(port, transport).ToList();
        // A STARTTLS-capable TLS grabber listed for the service runs before the service's own grabber for the same reason.
        selected.AddRange(more.Where(g => g.Name == "ssl"));
        selected.AddRange(more.Where(g => g.Name != "ssl"));
        return [.. selected.Distinct()];
    }

    /// <summary>No deep grabbing (identification only).</summary>
    public static IReadOnlyList<IGrabber> None(string? service, int port, Transport transport, bool tls) => [];
}
