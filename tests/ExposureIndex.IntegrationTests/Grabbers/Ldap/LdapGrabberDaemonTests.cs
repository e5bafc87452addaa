using ExposureIndex.Grabbers.Ldap;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Ldap;

/// <summary>
/// The LDAP grabber against Debian's OpenLDAP slapd. OpenLDAP's root DSE names the product (its OpenLDAProotDSE
/// object class) but no version, so the record claims the product with '*' as the CPE version.
/// </summary>
public sealed class LdapGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_Slapd_ProductNamingContextsAndNoVersionClaimed()
    {
        await using var slapd = await SlapdDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new LdapGrabber(), slapd);

        Assert.Equal(slapd.Product, record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("cpe:2.3:a:openldap:openldap:*:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.Equal([SlapdDaemon.Suffix], record.Ldap.NamingContexts);
        Assert.Equal(["3"], record.Ldap.SupportedLdapVersion);
        Assert.Equal(0, record.Ldap.ResultCode);
        await DaemonAssert.BindsOnlyItsAddressAsync(slapd);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_Slapd_SameRootDseAsLdapsearch()
    {
        var ldapsearch = Requires.Executable("ldapsearch", "ldap-utils");
        await using var slapd = await SlapdDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var result = await GrabRun.GrabAsync(new LdapGrabber(), slapd);
        var ldif = await Tool.RunAsync(
            new DaemonCommand(ldapsearch, ["-x", "-LLL", "-H", $"ldap://{slapd.Address}:{slapd.Port}", "-b", string.Empty, "-s", "base", "(objectClass=*)", "supportedSASLMechanisms", "supportedControl"]),
            TimeSpan.FromSeconds(30),
            cancellationToken: GrabRun.Ct);

        Assert.Equal(0, ldif.ExitCode);
        var lines = ldif.StandardOutput.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines.Where(l => l.StartsWith("supportedSASLMechanisms: ", StringComparison.Ordinal)).Select(l => l[25..]), result.Fragment.Ldap.SupportedSaslMechanisms);
        Assert.Equal(lines.Where(l => l.StartsWith("supportedControl: ", StringComparison.Ordinal)).Select(l => l[18..]), result.Fragment.Ldap.SupportedControl);
    }
}
