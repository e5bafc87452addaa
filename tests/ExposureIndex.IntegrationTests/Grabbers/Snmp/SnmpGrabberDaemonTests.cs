using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Snmp;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Snmp;

/// <summary>The SNMP grabber against Debian's Net-SNMP agent: the system group and the exact version snmpd reports.</summary>
public sealed class SnmpGrabberDaemonTests
{
    private static GrabContext Context(Daemon daemon) => new()
    {
        Target = new GrabTarget(daemon.Address, daemon.Port, Transport.Udp),
        Limits = new GrabLimits(),
        Network = SocketGrabNetwork.Instance,
    };

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_NetSnmp_ProductExactVersionAndSystemGroup()
    {
        await using var snmpd = await NetSnmpDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new SnmpGrabber().GrabAsync(Context(snmpd), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{snmpd.LogTail()}");
        var record = result.Fragment;
        Assert.Equal(snmpd.Product, record.Product);
        Assert.Equal(snmpd.Version, record.Version);
        Assert.Equal($"cpe:2.3:a:net-snmp:net-snmp:{snmpd.Version}:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.Equal(snmpd.SysContact, record.Snmp.Contact);
        Assert.Equal(snmpd.SysName, record.Snmp.Name);
        Assert.Equal(snmpd.SysLocation, record.Snmp.Location);
        Assert.StartsWith("1.3.6.1.4.1.8072.3.2.", record.Snmp.Objectid, StringComparison.Ordinal);
        // sysDescr is built from uname(2): "Linux <nodename> <release> ...".
        Assert.StartsWith("Linux " + Environment.MachineName + " ", record.Snmp.Description, StringComparison.Ordinal);
        Assert.Equal("Linux", record.Os);
        Assert.Equal("public", record.Snmp.Community);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_NetSnmpWithDebiansSystemOnlyView_ProductWithoutVersion()
    {
        await using var snmpd = await NetSnmpDaemon.StartAsync(restrictView: true, cancellationToken: DaemonAssert.Ct);

        var result = await new SnmpGrabber().GrabAsync(Context(snmpd), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{snmpd.LogTail()}");
        Assert.Equal(snmpd.Product, result.Fragment.Product);
        Assert.Equal(string.Empty, result.Fragment.Version);
        Assert.Equal("cpe:2.3:a:net-snmp:net-snmp:*:*:*:*:*:*:*:*", result.Fragment.Cpe23.Single());
        Assert.Equal(snmpd.SysName, result.Fragment.Snmp.Name);
    }
}
