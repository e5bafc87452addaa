using ExposureIndex.Grabbers.Snmp;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Snmp;

/// <summary>The SNMP grabber against Debian's Net-SNMP agent: the system group and the exact version snmpd reports.</summary>
public sealed class SnmpGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_NetSnmp_ProductExactVersionAndSystemGroup()
    {
        await using var snmpd = await NetSnmpDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new SnmpGrabber(), snmpd);

        GrabRun.AssertExactVersion(record, snmpd, "net-snmp", "net-snmp");
        Assert.Equal(snmpd.SysContact, record.Snmp.Contact);
        Assert.Equal(snmpd.SysName, record.Snmp.Name);
        Assert.Equal(snmpd.SysLocation, record.Snmp.Location);
        Assert.StartsWith("1.3.6.1.4.1.8072.3.2.", record.Snmp.Objectid, StringComparison.Ordinal);
        // sysDescr is built from uname(2): "Linux <nodename> <release> ...".
        Assert.StartsWith("Linux " + Environment.MachineName + " ", record.Snmp.Description, StringComparison.Ordinal);
        Assert.Equal("Linux", record.Os);
        Assert.Equal("public", record.Snmp.Community);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_NetSnmpWithDebiansSystemOnlyView_ProductWithoutVersion()
    {
        await using var snmpd = await NetSnmpDaemon.StartAsync(restrictView: true, cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new SnmpGrabber(), snmpd);

        Assert.Equal(snmpd.Product, record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("cpe:2.3:a:net-snmp:net-snmp:*:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.Equal(snmpd.SysName, record.Snmp.Name);
    }
}
