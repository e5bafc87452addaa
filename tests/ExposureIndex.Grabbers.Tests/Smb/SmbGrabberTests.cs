using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Smb;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Smb;

public sealed class SmbGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Samba's captured answers: SMB2 NEGOTIATE for the SMB2 request, the SMB1 refusal for the SMB1 one.</summary>
    private static byte[]? Samba(byte[] request, bool smb1Enabled = false)
        => request[4] switch
        {
            0xFE => ProtocolFixtures.Read("Smb", "samba-smb2-negotiate-311.bin"),
            0xFF => ProtocolFixtures.Read("Smb", smb1Enabled ? "samba-smb1-accepted.bin" : "samba-smb1-refused.bin"),
            _ => null,
        };

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Samba_ProductNetbiosNameDialectAndSmb1Disabled()
    {
        await using var server = TestServer.Answering((_, request) => Samba(request));

        var result = await new SmbGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        var record = result.Fragment;
        Assert.Equal("smb", record.Module);
        Assert.Equal("Samba", record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal(["cpe:2.3:a:samba:samba:*:*:*:*:*:*:*:*"], record.Cpe23);
        Assert.Equal("NetBIOS name: EXPOSURETEST", record.Info);
        Assert.Equal(2, record.Smb.SmbVersion);
        Assert.Equal("3.1.1", record.Smb.Dialect);
        Assert.True(record.Smb.SigningEnabled);
        Assert.False(record.Smb.SigningRequired);
        Assert.Equal(["DFS", "LEASING", "LARGE_MTU", "MULTI_CHANNEL"], record.Smb.Capabilities);
        Assert.Equal("AES-128-GCM", record.Smb.Cipher);
        Assert.Equal("AES-GMAC", record.Smb.SigningAlgorithm);
        Assert.Equal("SHA-512", record.Smb.PreauthHash);
        Assert.Equal(["NTLMSSP"], record.Smb.AuthMechanisms);
        Assert.True(record.Smb.HasSmb1Enabled);
        Assert.False(record.Smb.Smb1Enabled);
        Assert.Null(record.Smb.ServerStartTime);
        Assert.NotNull(record.Smb.SystemTime);
        Assert.Contains("  Dialect: 3.1.1\n", record.Data.ToStringUtf8(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Always_TwoNegotiatesAndNoSessionSetup()
    {
        await using var server = TestServer.Answering((_, request) => Samba(request, smb1Enabled: true));

        var result = await new SmbGrabber().GrabAsync(server.Context(), Ct);

        Assert.True(result.Fragment.Smb.Smb1Enabled);
        Assert.Equal(2, server.Accepted);
        var requests = server.Received.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Contains(requests, r => r[4] == 0xFE && r[4 + 12] == 0x00); // SMB2 NEGOTIATE
        Assert.Contains(requests, r => r[4] == 0xFF && r[4 + 4] == 0x72); // SMB1 NEGOTIATE
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Smb1ConnectionDropped_Smb1Disabled()
    {
        await using var server = TestServer.Answering((_, request) => request[4] == 0xFE ? Samba(request) : null);

        var result = await new SmbGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.True(result.Fragment.Smb.HasSmb1Enabled);
        Assert.False(result.Fragment.Smb.Smb1Enabled);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        var result = await HostilePeers.TarpitAsync(new SmbGrabber());

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Equal(string.Empty, result.Fragment.Product);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Garbage_ProtocolErrorWithoutReadingItAll()
    {
        (await HostilePeers.GarbageAsync(new SmbGrabber())).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_SlowDripOfAFrame_EndsWithinTheDeadline()
    {
        var result = await HostilePeers.DripAsync(new SmbGrabber(), [0x00, 0x00, 0xFF, 0xFF, 0xFE, (byte)'S', (byte)'M', (byte)'B'], [0x00], TimeSpan.FromMilliseconds(200), afterRequest: true);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
    }
}
