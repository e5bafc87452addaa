using ExposureIndex.Grabbers.Smb;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Smb;

/// <summary>
/// The SMB grabber against Debian's Samba smbd. Negotiation never states Samba's version (only a session setup
/// would, and we stop before it), so the record names the product - from the server GUID Samba fills with its
/// NetBIOS name - with '*' as the CPE version.
/// </summary>
public sealed class SmbGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_Samba_ProductNetbiosNameSmb3AndSmb1Disabled()
    {
        await using var smbd = await SambaDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new SmbGrabber(), smbd);

        Assert.Equal(smbd.Product, record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("cpe:2.3:a:samba:samba:*:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.Equal("NetBIOS name: " + smbd.NetbiosName, record.Info);
        Assert.Equal(2, record.Smb.SmbVersion);
        Assert.Equal("3.1.1", record.Smb.Dialect);
        Assert.True(record.Smb.SigningEnabled);
        Assert.False(record.Smb.SigningRequired);
        Assert.True(record.Smb.HasSmb1Enabled);
        Assert.False(record.Smb.Smb1Enabled);
        Assert.Contains("NTLMSSP", record.Smb.AuthMechanisms);
        await DaemonAssert.BindsOnlyItsAddressAsync(smbd);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_SambaWithSmb1_Smb1Enabled()
    {
        await using var smbd = await SambaDaemon.StartAsync(smb1: true, cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new SmbGrabber(), smbd);

        Assert.True(record.Smb.Smb1Enabled);
        Assert.Equal(smbd.Product, record.Product);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task StartAsync_Samba_LeadsItsOwnProcessGroupAndStopsCleanly()
    {
        // smbd signals its whole process group on shutdown: it must lead its own group, not share the test runner's.
        var smbd = await SambaDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        Assert.Equal(smbd.Pid, ProcessGroup(smbd.Pid));
        Assert.NotEqual(ProcessGroup(Environment.ProcessId), ProcessGroup(smbd.Pid));
        await DaemonAssert.StopsCleanlyAsync(smbd);
    }

    /// <summary>Field 5 of /proc/[pid]/stat (proc(5)): the process group id.</summary>
    private static int ProcessGroup(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
    }
}
