using ExposureIndex.Grabbers.Ftp;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Ftp;

/// <summary>The FTP grabber against Debian's vsftpd: product and the exact version the installed package reports.</summary>
public sealed class FtpGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_Vsftpd_ProductExactVersionAndFeatures()
    {
        await using var vsftpd = await VsftpdDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new FtpGrabber(), vsftpd);

        GrabRun.AssertExactVersion(record, vsftpd, "beasts", "vsftpd");
        Assert.Equal(220, record.Ftp.GreetingCode);
        Assert.True(record.Ftp.FeatSupported);
        Assert.Contains("EPSV", record.Ftp.Features.Keys);
        Assert.False(record.Ftp.AuthTls);
        // vsftpd answers SYST only after login, and we never log in.
        Assert.Equal(string.Empty, record.Ftp.System);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_VsftpdWithTls_AuthTlsOffered()
    {
        await using var vsftpd = await VsftpdTlsDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new FtpGrabber(), vsftpd);

        Assert.Equal(vsftpd.Version, record.Version);
        Assert.True(record.Ftp.AuthTls);
        Assert.Equal(["TLS"], record.Ftp.Features["AUTH"].Parameters);
        // Recording the capability is ours; the starttls tag belongs to the TLS grabber, which negotiates.
        Assert.DoesNotContain("starttls", record.Tags);
    }
}
