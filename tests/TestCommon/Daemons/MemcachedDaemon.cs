using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's memcached in the foreground on one private loopback address; UDP is off unless asked for (then on the
/// same port number as TCP, as memcached's default 11211/udp used to be).
/// </summary>
public sealed class MemcachedDaemon : Daemon
{
    public const int WellKnownPort = 11211;

    private MemcachedDaemon(DaemonIdentity identity, DaemonOptions? options, bool udp)
        : base("memcached", identity, options, WellKnownPort)
    {
        UdpPort = udp ? (CanUseSamePortForUdp() ? Port : PickPort(Address, 0, ProtocolType.Udp)) : null;
    }

    /// <summary>The UDP port, or null when UDP is disabled.</summary>
    public int? UdpPort { get; }

    public IPEndPoint? UdpEndPoint => UdpPort is { } port ? new IPEndPoint(Address, port) : null;

    /// <summary>Version truth of the installed memcached (from `memcached -V`); skips when it is absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("memcached", "memcached");
        return DaemonIdentity.FromBinary("Memcached", exe, ["-V"], @"memcached (\d+\.\d+\.\d+)", "memcached");
    }

    public static async Task<MemcachedDaemon> StartAsync(DaemonOptions? options = null, bool udp = false, CancellationToken cancellationToken = default)
    {
        var daemon = new MemcachedDaemon(Installed(), options, udp);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    /// <summary>
    /// A memcached UDP request: the 8-byte frame header (request id, sequence number 0, 1 datagram, reserved 0) from
    /// memcached's protocol.txt "UDP protocol", then the text command.
    /// </summary>
    public static byte[] UdpRequest(ushort requestId, string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var body = Encoding.ASCII.GetBytes(command);
        var datagram = new byte[8 + body.Length];
        datagram[0] = (byte)(requestId >> 8);
        datagram[1] = (byte)requestId;
        datagram[5] = 1;
        body.CopyTo(datagram, 8);
        return datagram;
    }

    protected override Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override DaemonCommand CreateCommand()
    {
        var args = new List<string>
        {
            "-l", Address.ToString(),
            "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-U", (UdpPort ?? 0).ToString(CultureInfo.InvariantCulture),
            "-m", "16",
            "-c", "256",
            "-t", "2",
            "-v",
        };
        if (RunningAsRoot)
        {
            // memcached refuses to run as root; -u makes it drop to that account itself after binding (pid unchanged).
            args.AddRange(["-u", "memcache"]);
        }

        return new DaemonCommand(Identity.Executable, args);
    }

    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (!await base.IsReadyAsync(cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        if (UdpEndPoint is not { } udp)
        {
            return true;
        }

        try
        {
            var answer = await WireProbe.UdpExchangeAsync(udp, UdpRequest(1, "version\r\n"), TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            return answer.Length > 8;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private bool CanUseSamePortForUdp()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(Address, Port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
