using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Tests.Support;
using ExposureIndex.Grabbers.Vnc;

namespace ExposureIndex.Grabbers.Tests.Vnc;

public sealed class VncGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Plays a captured server side: the version line at once, the rest after the client's version answer.</summary>
    private static TestServer Serve(string fixture)
    {
        var bytes = ProtocolFixtures.Read("Vnc", fixture);
        return TestServer.Start(async (c, ct) =>
        {
            await c.WriteAsync(bytes.AsMemory(0, VncParser.VersionLength), ct);
            if ((await c.ReadAsync(ct)).Length > 0)
            {
                await c.WriteAsync(bytes.AsMemory(VncParser.VersionLength), ct);
                while ((await c.ReadAsync(ct)).Length > 0)
                {
                }
            }
        });
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_TigerVnc_SecurityTypesAndNoProductClaimed()
    {
        await using var server = Serve("tigervnc-38-vencrypt-vncauth.bin");

        var result = await new VncGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        var record = result.Fragment;
        Assert.Equal("vnc", record.Module);
        Assert.Equal(string.Empty, record.Product);
        Assert.Equal("3.8", record.Vnc.ProtocolVersion);
        Assert.Equal("VeNCrypt", record.Vnc.SecurityTypes["19"]);
        Assert.Equal("VNC Authentication", record.Vnc.SecurityTypes["2"]);
        Assert.Equal("RFB 003.008\nSecurity types:\n  19: VeNCrypt\n  2: VNC Authentication\n", record.Data.ToStringUtf8());
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Always_AnswersTheVersionAndNeverChoosesASecurityType()
    {
        await using var server = Serve("tigervnc-38-none.bin");

        var result = await new VncGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal("None", result.Fragment.Vnc.SecurityTypes["1"]);
        Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString((await server.WaitForReceivedAsync(1)).SelectMany(r => r).ToArray()));
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        var result = await HostilePeers.TarpitAsync(new VncGrabber());

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Garbage_ProtocolErrorWithoutReadingItAll()
    {
        (await HostilePeers.GarbageAsync(new VncGrabber())).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_SlowDripOfAReason_EndsWithinTheDeadline()
    {
        // Version, zero types, a 1000-byte reason dripped a byte every 200 ms.
        var result = await HostilePeers.DripAsync(new VncGrabber(), [.. "RFB 003.008\n"u8, 0, 0, 0, 0x03, 0xE8], [(byte)'x'], TimeSpan.FromMilliseconds(200), afterRequest: false);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Equal("3.8", result.Fragment.Vnc.ProtocolVersion);
    }
}
