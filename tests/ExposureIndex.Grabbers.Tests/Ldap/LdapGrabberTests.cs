using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Ldap;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Ldap;

public sealed class LdapGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_OpenLdap_ProductWithoutVersionAndRootDseFields()
    {
        var reply = ProtocolFixtures.Read("Ldap", "openldap-rootdse.bin");
        await using var server = TestServer.Answering((_, request) => request[0] == 0x30 && request.AsSpan().IndexOf((byte)0x63) > 0 ? reply : null);

        var result = await new LdapGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        var record = result.Fragment;
        Assert.Equal("ldap", record.Module);
        Assert.Equal("OpenLDAP", record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal(["cpe:2.3:a:openldap:openldap:*:*:*:*:*:*:*:*"], record.Cpe23);
        Assert.Equal(["dc=exposureindex,dc=test"], record.Ldap.NamingContexts);
        Assert.Equal(["3"], record.Ldap.SupportedLdapVersion);
        Assert.Equal("OpenLDAProotDSE", record.Ldap.StructuralObjectClass);
        Assert.Equal("cn=config", record.Ldap.ConfigContext);
        Assert.Contains("namingContexts: dc=exposureindex,dc=test\n", record.Data.ToStringUtf8(), StringComparison.Ordinal);
        Assert.EndsWith("result: 0 success\n", record.Data.ToStringUtf8(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Always_SearchThenUnbindAndNeverABind()
    {
        var reply = ProtocolFixtures.Read("Ldap", "openldap-rootdse.bin");
        await using var server = TestServer.Answering((_, _) => reply);

        await new LdapGrabber().GrabAsync(server.Context(), Ct);

        var messages = await server.WaitForReceivedAsync(2);
        Assert.Equal(LdapGrabber.BuildRootDseSearch(1), messages[0]);
        Assert.Equal(Convert.FromHexString("30050201024200"), messages[1]); // UnbindRequest; no BindRequest (0x60) ever
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        var result = await HostilePeers.TarpitAsync(new LdapGrabber());

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Equal(string.Empty, result.Fragment.Product);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Garbage_ProtocolErrorWithoutReadingItAll()
    {
        (await HostilePeers.GarbageAsync(new LdapGrabber())).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_EndlessEntryStream_StopsAtTheByteCap()
    {
        // A SEQUENCE announcing 1 MiB - 1 (under the message cap), then filler forever: the connection's byte cap ends it.
        var (result, written) = await HostilePeers.FloodAfterRequestAsync(new LdapGrabber(), [0x30, 0x83, 0x0F, 0xFF, 0xFF], new byte[16 * 1024]);

        Assert.NotEqual(GrabOutcome.Success, result.Outcome);
        Assert.True(written < HostilePeers.TenMegabytes, $"the server wrote {written} bytes");
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_SlowDrip_EndsWithinTheDeadline()
    {
        var result = await HostilePeers.DripAsync(new LdapGrabber(), [0x30, 0x82, 0x7F, 0xFF], [0x04], TimeSpan.FromMilliseconds(200), afterRequest: true);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
    }
}
