using System.Globalization;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Memcached;

/// <summary>
/// Memcached over TCP: "stats" (version, uptime, items, connections, memory), then "version", then "quit". Reads
/// nothing stored: no get, no key listing. Fills the <c>memcached</c> section.
/// </summary>
internal sealed class MemcachedGrabber : IGrabber
{
    public string Name => "memcached";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["memcached", "memcache"];

    public IReadOnlyList<int> Ports { get; } = [11211];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
        => Conversation.GrabAsync(context, Name, new MemcachedParser(), Describe, cancellationToken);

    internal static void Describe(ServiceRecord record, MemcachedResult result)
    {
        var section = new MemcachedSection
        {
            Version = result.Version ?? string.Empty,
            Pid = (uint)Number(result, "pid"),
            Uptime = Number(result, "uptime"),
            CurrItems = Number(result, "curr_items"),
            TotalItems = Number(result, "total_items"),
            CurrConnections = Number(result, "curr_connections"),
            TotalConnections = Number(result, "total_connections"),
            Bytes = Number(result, "bytes"),
            LimitMaxbytes = Number(result, "limit_maxbytes"),
            Threads = (uint)Number(result, "threads"),
            Error = result.StatsError ?? string.Empty,
        };
        foreach (var (key, value) in result.Stats)
        {
            section.Stats[key] = value;
        }

        record.Memcached = section;
        record.Data = ByteString.CopyFrom(result.Banner);
        // Only a well-formed STAT list or VERSION reply names memcached; a bare ERROR could be anything.
        if (result.Stats.Count > 0 || result.VersionReply is not null)
        {
            record.Tags.Add("database");
            var version = result.Version is { Length: > 0 } v ? v : null;
            new ProductMatch("Memcached", version, null, null, Cpe.Application("memcached", "memcached", version)).ApplyTo(record);
        }
    }

    private static ulong Number(MemcachedResult result, string key)
        => ulong.TryParse(result.Stat(key), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
}
