using System.Text.RegularExpressions;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Ntp;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Ntp;

/// <summary>The NTP grabber against Debian's NTPsec (no upstream servers): product and the exact version ntpd reports.</summary>
public sealed class NtpGrabberDaemonTests
{
    private static GrabContext Context(Daemon daemon) => new()
    {
        Target = new GrabTarget(daemon.Address, daemon.Port, Transport.Udp),
        Limits = new GrabLimits(),
        Network = SocketGrabNetwork.Instance,
    };

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_Ntpsec_ProductExactVersionAndHeader()
    {
        await using var ntpd = await NtpsecDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new NtpGrabber().GrabAsync(Context(ntpd), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{ntpd.LogTail()}");
        var record = result.Fragment;
        Assert.Equal(ntpd.Product, record.Product);
        Assert.Equal(ntpd.Version, record.Version);
        Assert.Equal($"cpe:2.3:a:ntpsec:ntpsec:{ntpd.Version}:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.Equal(4, record.Ntp.ProtocolVersion);
        Assert.True(record.Ntp.HasStratum);
        Assert.NotEqual(string.Empty, record.Ntp.Refid);
        Assert.Equal("Linux", record.Os);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_Ntpsec_SameVersionStringAsNtpq()
    {
        var ntpq = Requires.Executable("ntpq", "ntpsec");
        await using var ntpd = await NtpsecDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new NtpGrabber().GrabAsync(Context(ntpd), DaemonAssert.Ct);
        var rv = await Tool.RunAsync(new DaemonCommand(ntpq, ["-c", "rv", ntpd.Address.ToString()]), TimeSpan.FromSeconds(30), cancellationToken: DaemonAssert.Ct);

        var version = Regex.Match(rv.StandardOutput, "version=\"([^\"]+)\"", RegexOptions.None, TimeSpan.FromSeconds(1));
        Assert.True(version.Success, rv.Combined);
        Assert.Equal(version.Groups[1].Value, result.Fragment.Ntp.Version);
    }
}
