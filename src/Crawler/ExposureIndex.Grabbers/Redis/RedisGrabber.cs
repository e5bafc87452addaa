using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace ExposureIndex.Grabbers.Redis;

/// <summary>
/// Redis: INFO without AUTH. An open server answers with its info (version, OS, mode, memory, clients ...), which
/// fills Shodan's <c>redis</c> section; a protected one says NOAUTH, which we record, and we stop there.
/// </summary>
internal sealed class RedisGrabber : IGrabber
{
    public string Name => "redis";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["redis"];

    public IReadOnlyList<int> Ports { get; } = [6379, 6380];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
        => Conversation.GrabAsync(context, Name, new RedisParser(), Describe, cancellationToken);

    internal static void Describe(ServiceRecord record, RedisResult result)
    {
        var section = new RedisSection
        {
            AuthRequired = result.AuthRequired,
            ProtectedMode = result.ProtectedMode,
            Error = result.Error ?? string.Empty,
        };
        foreach (var info in result.Sections)
        {
            if (Target(section, info.Name) is { } map)
            {
                foreach (var (key, value) in info.Fields)
                {
                    map[key] = value;
                }
            }
        }

        record.Redis = section;
        record.Data = ByteString.CopyFrom(result.Banner);
        if (Identify(result) is { } product)
        {
            record.Tags.Add("database");
            product.ApplyTo(record);
        }
    }

    /// <summary>
    /// Forks announce themselves next to redis_version (which they keep at the Redis version they track): Valkey's
    /// valkey_version, Dragonfly's dragonfly_version. A refusal names Redis without a version: "-NOAUTH
    /// Authentication required." and "-DENIED Redis is running in protected mode" are Redis's own words.
    /// </summary>
    internal static ProductMatch? Identify(RedisResult result)
    {
        var os = result.Value("server", "os") is { Length: > 0 } o ? o : null;
        if (result.Value("server", "valkey_version") is { Length: > 0 } valkey)
        {
            return new ProductMatch("Valkey", valkey, null, os, Cpe.Application("lfprojects", "valkey", valkey));
        }

        if (result.Value("server", "dragonfly_version") is { Length: > 0 } dragonfly)
        {
            var version = dragonfly.TrimStart('v', 'V');
            return new ProductMatch("Dragonfly", version, null, os, Cpe.Application("dragonflydb", "dragonfly", version));
        }

        if (result.Value("server", "redis_version") is { Length: > 0 } redis)
        {
            return new ProductMatch("Redis", redis, null, os, Cpe.Application("redis", "redis", redis));
        }

        return result.Sections.Count == 0 && (result.AuthRequired || result.ProtectedMode)
            ? new ProductMatch("Redis", null, null, null, Cpe.Application("redis", "redis", null))
            : null;
    }

    private static MapField<string, string>? Target(RedisSection section, string name) => name switch
    {
        "server" => section.Server,
        "clients" => section.Clients,
        "memory" => section.Memory,
        "persistence" => section.Persistence,
        "stats" => section.Stats,
        "replication" => section.Replication,
        "cpu" => section.Cpu,
        "cluster" => section.Cluster,
        "keyspace" => section.Keyspace,
        "modules" => section.Modules,
        _ => null,
    };
}
