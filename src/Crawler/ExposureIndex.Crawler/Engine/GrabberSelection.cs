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
            selected.AddRange(GrabberCatalog.ForService("ssl", transport));
        }

        if (service is "tcpwrapped")
        {
            return selected;
        }

        var forService = service is null ? [] : GrabberCatalog.ForService(service, transport).ToList();
        selected.AddRange(forService.Count > 0 || service is not null ? forService : GrabberCatalog.ForPort(port, transport));
        return [.. selected.Distinct()];
    }

    /// <summary>No deep grabbing (identification only).</summary>
    public static IReadOnlyList<IGrabber> None(string? service, int port, Transport transport, bool tls) => [];
}
