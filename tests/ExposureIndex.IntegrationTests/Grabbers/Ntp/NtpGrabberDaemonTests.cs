using System.Text.RegularExpressions;
using ExposureIndex.Grabbers.Ntp;
using ExposureIndex.TestCommon;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Ntp;

/// <summary>The NTP grabber against Debian's NTPsec (no upstream servers): product and the exact version ntpd reports.</summary>
public sealed class NtpGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_Ntpsec_ProductExactVersionAndHeader()
    {
        await using var ntpd = await NtpsecDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new NtpGrabber(), ntpd);

        GrabRun.AssertExactVersion(record, ntpd, "ntpsec", "ntpsec");
        Assert.Equal(4, record.Ntp.ProtocolVersion);
        Assert.True(record.Ntp.HasStratum);
        Assert.NotEqual(string.Empty, record.Ntp.Refid);
        Assert.Equal("Linux", record.Os);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_Ntpsec_SameVersionStringAsNtpq()
    {
        var ntpq = Requires.Executable("ntpq", "ntpsec");
        await using var ntpd = await NtpsecDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var result = await GrabRun.GrabAsync(new NtpGrabber(), ntpd);
        var rv = await Tool.RunAsync(new DaemonCommand(ntpq, ["-c", "rv", ntpd.Address.ToString()]), TimeSpan.FromSeconds(30), cancellationToken: GrabRun.Ct);

        var version = Regex.Match(rv.StandardOutput, "version=\"([^\"]+)\"", RegexOptions.None, TimeSpan.FromSeconds(1));
        Assert.True(version.Success, rv.Combined);
        Assert.Equal(version.Groups[1].Value, result.Fragment.Ntp.Version);
    }
}
