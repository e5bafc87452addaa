using System.Globalization;
using System.Net.Sockets;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>Debian's etcd, a single-member cluster with its client and peer URLs on one loopback address.</summary>
public sealed class EtcdDaemon : Daemon
{
    public const int WellKnownPort = 2379;

    private readonly int _peerPort;

    private EtcdDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("etcd", identity, options, WellKnownPort)
    {
        _peerPort = PickPort(Address, Port == WellKnownPort ? 2380 : 0, ProtocolType.Tcp);
    }

    /// <summary>Version truth from `etcd --version` ("etcd Version: 3.4.23"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("etcd", "etcd-server");
        return DaemonIdentity.FromBinary("etcd", exe, ["--version"], @"etcd Version: (\d+(?:\.\d+)+)", "etcd-server");
    }

    public static async Task<EtcdDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new EtcdDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override DaemonCommand CreateCommand()
    {
        var client = string.Create(CultureInfo.InvariantCulture, $"http://{Address}:{Port}");
        var peer = string.Create(CultureInfo.InvariantCulture, $"http://{Address}:{_peerPort}");
        return new(Identity.Executable,
        [
            "--name", "exposure", "--data-dir", PathIn("data"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "exposure=" + peer, "--initial-cluster-state", "new",
            "--enable-v2=false", "--logger=zap", "--log-outputs=stderr",
        ]);
    }
}
