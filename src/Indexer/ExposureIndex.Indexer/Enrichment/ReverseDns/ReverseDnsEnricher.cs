using System.Net;
using System.Net.Sockets;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Indexer.Enrichment.ReverseDns;

/// <summary>
/// Fills <c>hostnames</c> (PTR names) and <c>domains</c> (their registered domains) from reverse DNS. Looks up each
/// distinct public address of a batch once, in parallel, within the batch budget; special-purpose addresses
/// (loopback, private, link-local, documentation ...) are never looked up unless asked.
/// </summary>
public sealed class ReverseDnsEnricher(ReverseDnsResolver resolver, ReverseDnsOptions options) : IRecordEnricher
{
    public string Name => "rdns";

    public async ValueTask EnrichAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        var wanted = new Dictionary<IPAddress, Task<IReadOnlyList<string>>>();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(options.BatchBudget);
        foreach (var record in records)
        {
            if (record.Hostnames.Count == 0 && IPAddress.TryParse(record.Ip, out var address)
                && (options.IncludeSpecialPurpose || !IsSpecialPurpose(address)) && !wanted.ContainsKey(address))
            {
                wanted[address] = resolver.ResolveAsync(address, budget.Token);
            }
        }

        if (wanted.Count == 0)
        {
            return;
        }

        try
        {
            await Task.WhenAll(wanted.Values).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Over budget: use what arrived; the rest is cached for later sightings.
        }

        foreach (var record in records)
        {
            if (record.Hostnames.Count > 0 || !IPAddress.TryParse(record.Ip, out var address)
                || !wanted.TryGetValue(address, out var lookup) || !lookup.IsCompletedSuccessfully)
            {
                continue;
            }

            foreach (var name in lookup.Result)
            {
                record.Hostnames.Add(name);
                if (DomainNames.RegisteredDomain(name) is { } domain && !record.Domains.Contains(domain))
                {
                    record.Domains.Add(domain);
                }
            }
        }
    }

    /// <summary>IANA special-purpose ranges where a PTR lookup tells the world nothing (and may leak internal names).</summary>
    public static bool IsSpecialPurpose(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return true;
        }

        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return b[0] is 0 or 10 or 127 or >= 224
                || (b[0] == 100 && b[1] is >= 64 and < 128)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] is >= 16 and < 32)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)
                || (b[0] == 198 && b[1] is 18 or 19)
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                || (b[0] == 203 && b[1] == 0 && b[2] == 113);
        }

        return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
            || (b[0] & 0xFE) == 0xFC
            || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8);
    }
}
