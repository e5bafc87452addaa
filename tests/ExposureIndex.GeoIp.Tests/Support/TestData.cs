using System.Net;
using System.Numerics;
using System.Text.Json;
using ExposureIndex.TestCommon;

namespace ExposureIndex.GeoIp.Tests.Support;

/// <summary>MaxMind's test databases, read in place from <see cref="RepoPaths.GeoIpTestData"/> (never copied into the repo).</summary>
internal static class TestData
{
    public static string Directory => RepoPaths.GeoIpTestData;

    /// <summary>The path of a test file, or a skip when the test data is absent.</summary>
    public static string File(string name) => Requires.File(Path.Combine(Directory, name), $"MaxMind test data file {name}");

    /// <summary>Every network of a MaxMind source JSON file (a list of one-entry objects).</summary>
    public static IReadOnlyList<JsonNetwork> Networks(string jsonName)
    {
        using var document = JsonDocument.Parse(System.IO.File.ReadAllBytes(File(jsonName)));
        var result = new List<JsonNetwork>();
        var index = 0;
        foreach (var entry in document.RootElement.EnumerateArray())
        {
            foreach (var property in entry.EnumerateObject())
            {
                result.Add(new JsonNetwork(index++, IPNetwork.Parse(property.Name), property.Value.Clone()));
            }
        }

        return result;
    }

    /// <summary>The JSON record the database must return for <paramref name="address"/>: the most specific network holding it, the later on a tie.</summary>
    public static JsonNetwork? Expected(IReadOnlyList<JsonNetwork> networks, IPAddress address)
    {
        JsonNetwork? best = null;
        var query = AsIpv6(address);
        foreach (var network in networks)
        {
            if (network.AsIpv6.Contains(query) && (best is null || network.AsIpv6.PrefixLength >= best.AsIpv6.PrefixLength))
            {
                best = network;
            }
        }

        return best;
    }

    /// <summary>
    /// Containment the way an IPv6 database stores IPv4: both sides are compared as IPv6, with an IPv4 address
    /// or network placed at ::a.b.c.d (spec: "IPv4 addresses in an IPv6 tree").
    /// </summary>
    public static bool Contains(IPNetwork network, IPAddress address) => AsIpv6(network).Contains(AsIpv6(address));

    public static IPAddress AsIpv6(IPAddress address)
    {
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address;
        }

        var bytes = new byte[16];
        address.GetAddressBytes().CopyTo(bytes, 12);
        return new IPAddress(bytes);
    }

    public static IPNetwork AsIpv6(IPNetwork network) =>
        network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? network
            : new IPNetwork(AsIpv6(network.BaseAddress), network.PrefixLength + 96);

    public static IPAddress First(IPNetwork network) => network.BaseAddress;

    public static IPAddress Last(IPNetwork network)
    {
        var bytes = network.BaseAddress.GetAddressBytes();
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var hostBits = bytes.Length * 8 - network.PrefixLength;
        value |= (BigInteger.One << hostBits) - 1;
        var raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var result = new byte[bytes.Length];
        raw.CopyTo(result, result.Length - raw.Length);
        return new IPAddress(result);
    }

    /// <summary>For an IPv4-compatible network (::a.b.c.d/96+), the IPv4 address in the same place; else null.</summary>
    public static IPAddress? AsIpv4(IPAddress address, int prefixLength)
    {
        var bytes = address.GetAddressBytes();
        return bytes.Length == 16 && prefixLength >= 96 && bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0
            ? new IPAddress(bytes.AsSpan(12, 4))
            : null;
    }
}

internal sealed record JsonNetwork(int Index, IPNetwork Network, JsonElement Record)
{
    public IPNetwork AsIpv6 { get; } = TestData.AsIpv6(Network);

    public string? String(params string[] path)
    {
        var current = Record;
        foreach (var step in path)
        {
            if (current.ValueKind == JsonValueKind.Array && int.TryParse(step, out var i))
            {
                if (i >= current.GetArrayLength())
                {
                    return null;
                }

                current = current[i];
            }
            else if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(step, out current))
            {
                return null;
            }
        }

        return current.ValueKind == JsonValueKind.String ? current.GetString() : null;
    }

    public double? Number(params string[] path)
    {
        var current = Record;
        foreach (var step in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(step, out current))
            {
                return null;
            }
        }

        return current.ValueKind == JsonValueKind.Number ? current.GetDouble() : null;
    }
}
