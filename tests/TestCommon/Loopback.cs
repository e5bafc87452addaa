using System.Net;
using System.Net.Sockets;

namespace ExposureIndex.TestCommon;

/// <summary>
/// Loopback addresses and ports for tests. Every test traffic stays on 127.0.0.0/8 (ground rule 2):
/// distinct 127.x.y.z addresses stand in for distinct internet hosts.
/// </summary>
public static class Loopback
{
    // Each test process takes its own block of 1,000 addresses, chosen from its pid, so that test assemblies
    // running side by side do not collide: 127.(16+pid%230).(4*((pid/230)%64) + n/250).(1 + n%250).
    // Two processes share a block only if their pids differ by a multiple of 14,720.
    private static readonly int SecondOctet = 16 + (Environment.ProcessId % 230);
    private static readonly int ThirdOctetBase = 4 * ((Environment.ProcessId / 230) % 64);
    private static int _next;

    /// <summary>A fresh 127.x.y.z address for this process. Never 127.0.0.1.</summary>
    public static IPAddress NextAddress()
    {
        var n = Interlocked.Increment(ref _next) - 1;
        if (n >= 1000)
        {
            throw new InvalidOperationException("Ran out of per-process loopback addresses (1,000).");
        }

        return new IPAddress(new byte[] { 127, (byte)SecondOctet, (byte)(ThirdOctetBase + (n / 250)), (byte)(1 + (n % 250)) });
    }

    /// <summary>A TCP port that is free on <paramref name="address"/> right now (bind to :0 and release).</summary>
    public static int FreeTcpPort(IPAddress? address = null)
    {
        using var listener = new TcpListener(address ?? IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A UDP port that is free on <paramref name="address"/> right now.</summary>
    public static int FreeUdpPort(IPAddress? address = null)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address ?? IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>True when <paramref name="address"/> is on loopback; tests assert this before sending anything.</summary>
    public static bool IsLoopback(IPAddress address) => IPAddress.IsLoopback(address);
}
