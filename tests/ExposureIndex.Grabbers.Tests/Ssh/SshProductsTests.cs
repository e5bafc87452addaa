using ExposureIndex.Grabbers.Ssh;

namespace ExposureIndex.Grabbers.Tests.Ssh;

public sealed class SshProductsTests
{
    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", "OpenSSH", "9.2p1", "protocol 2.0", "Debian", "cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*")]
    [InlineData("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6", "OpenSSH", "8.9p1", "protocol 2.0", "Ubuntu", "cpe:2.3:a:openbsd:openssh:8.9p1:*:*:*:*:*:*:*")]
    [InlineData("SSH-2.0-OpenSSH_7.4", "OpenSSH", "7.4", "protocol 2.0", "", "cpe:2.3:a:openbsd:openssh:7.4:*:*:*:*:*:*:*")]
    [InlineData("SSH-1.99-OpenSSH_3.9p1", "OpenSSH", "3.9p1", "protocol 1.99", "", "cpe:2.3:a:openbsd:openssh:3.9p1:*:*:*:*:*:*:*")]
    [InlineData("SSH-2.0-OpenSSH_for_Windows_8.1", "OpenSSH for Windows", "8.1", "protocol 2.0", "Windows", "cpe:2.3:a:openbsd:openssh:8.1:*:*:*:*:*:*:*")]
    [InlineData("SSH-2.0-dropbear_2022.83", "Dropbear sshd", "2022.83", "protocol 2.0", "", "cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2022.83:*:*:*:*:*:*:*")]
    [InlineData("SSH-2.0-libssh_0.10.4", "libssh", "0.10.4", "protocol 2.0", "", "cpe:2.3:a:libssh:libssh:0.10.4:*:*:*:*:*:*:*")]
    [InlineData("SSH-2.0-Go", "Golang x/crypto/ssh server", "", "protocol 2.0", "", "cpe:2.3:a:golang:crypto:*:*:*:*:*:*:*:*")]
    [InlineData("SSH-2.0-GoAnywhere", "GoAnywhere", "", "protocol 2.0", "", "cpe:2.3:a:goanywhere:goanywhere:*:*:*:*:*:*:*:*")]
    [InlineData("SSH-2.0-Foo-2.1", "Foo", "2.1", "protocol 2.0", "", "cpe:2.3:a:foo:foo:2.1:*:*:*:*:*:*:*")]
    public void TryParse_Banner_ProductVersionInfoOsCpe(string banner, string product, string version, string info, string os, string cpe)
    {
        Assert.True(SshProducts.TryParse(banner, out var parsed));

        Assert.Equal(product, parsed.Product);
        Assert.Equal(version, parsed.Version ?? string.Empty);
        Assert.Equal(info, parsed.Info);
        Assert.Equal(os, parsed.Os ?? string.Empty);
        Assert.Equal(cpe, parsed.Cpe23);
    }

    [Theory]
    [InlineData("")]
    [InlineData("HTTP/1.1 200 OK")]
    [InlineData("SSH-2.0-")]
    public void TryParse_NotAnIdentification_False(string banner) => Assert.False(SshProducts.TryParse(banner, out _));
}
