using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Ftp;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Ftp;

/// <summary>The FTP grabber against Debian's vsftpd: product and the exact version the installed package reports.</summary>
public sealed class FtpGrabberDaemonTests
{
    private static GrabContext Context(IPEndPoint endPoint) => new()
    {
        Target = new GrabTarget(endPoint.Address, endPoint.Port, Transport.Tcp),
        Limits = new GrabLimits(),
        Network = SocketGrabNetwork.Instance,
    };

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_Vsftpd_ProductExactVersionAndFeatures()
    {
        await using var vsftpd = await VsftpdDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new FtpGrabber().GrabAsync(Context(vsftpd.EndPoint), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{vsftpd.LogTail()}");
        var record = result.Fragment;
        Assert.Equal(vsftpd.Product, record.Product);
        Assert.Equal(vsftpd.Version, record.Version);
        Assert.Equal($"cpe:2.3:a:beasts:vsftpd:{vsftpd.Version}:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.Equal(220, record.Ftp.GreetingCode);
        Assert.True(record.Ftp.FeatSupported);
        Assert.Contains("EPSV", record.Ftp.Features.Keys);
        Assert.False(record.Ftp.AuthTls);
        // vsftpd answers SYST only after login, and we never log in.
        Assert.Equal(string.Empty, record.Ftp.System);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_VsftpdWithTls_AuthTlsOffered()
    {
        await using var vsftpd = await VsftpdTlsDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new FtpGrabber().GrabAsync(Context(vsftpd.EndPoint), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{vsftpd.LogTail()}");
        Assert.Equal(vsftpd.Version, result.Fragment.Version);
        Assert.True(result.Fragment.Ftp.AuthTls);
        Assert.Equal(["TLS"], result.Fragment.Ftp.Features["AUTH"].Parameters);
        // Recording the capability is ours; the starttls tag belongs to the TLS grabber, which negotiates.
        Assert.DoesNotContain("starttls", result.Fragment.Tags);
    }
}
