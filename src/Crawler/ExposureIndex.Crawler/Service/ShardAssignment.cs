using System.Globalization;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Service;

/// <summary>
/// Where a replica's shard index comes from in Kubernetes: a StatefulSet names its pods <c>&lt;set&gt;-&lt;ordinal&gt;</c>
/// (0, 1, 2 ...; Kubernetes docs, "StatefulSets: Pod Identity"), and the ordinal is the shard. Environment
/// variable <c>HOSTNAME</c> holds the pod name; a fully qualified name is cut at its first dot.
/// </summary>
internal static class ShardAssignment
{
    /// <summary>Reads the ordinal suffix of <paramref name="hostName"/>, e.g. <c>crawler-3</c> is shard 3 of <paramref name="shardCount"/>.</summary>
    public static bool TryFromHostName(string? hostName, int shardCount, out ShardSpec shard, out string error)
    {
        shard = ShardSpec.Single;
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(hostName))
        {
            error = "the host name is empty; set Shard explicitly or run in a StatefulSet (pods are named <set>-<ordinal>)";
            return false;
        }

        var name = hostName.Trim();
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            name = name[..dot];
        }

        var dash = name.LastIndexOf('-');
        var suffix = dash >= 0 ? name[(dash + 1)..] : string.Empty;
        if (dash <= 0 || suffix.Length == 0 || suffix.Length > 5 || !suffix.All(char.IsAsciiDigit)
            || (suffix.Length > 1 && suffix[0] == '0'))
        {
            error = $"host name '{hostName}' does not end in a StatefulSet ordinal (<set>-<ordinal>, e.g. crawler-3); set Shard explicitly";
            return false;
        }

        var ordinal = int.Parse(suffix, CultureInfo.InvariantCulture);
        if (shardCount < 1 || shardCount > ShardSpec.MaxShards)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"shard count {shardCount} must be 1-{ShardSpec.MaxShards}");
            return false;
        }

        if (ordinal >= shardCount)
        {
            error = string.Create(CultureInfo.InvariantCulture,
                $"pod ordinal {ordinal} (from host name '{hostName}') is not below the shard count {shardCount}: the StatefulSet has more replicas than Shards says");
            return false;
        }

        shard = new ShardSpec(ordinal, shardCount);
        return true;
    }
}
