using System.Net;
using System.Text;
using ExposureIndex.Crawler.Engine;

namespace ExposureIndex.Crawler.Tests.Engine;

public sealed class HttpProbeTests
{
    [Fact]
    public void BuildRequest_NonDefaultPort_HostCarriesPortAndUserAgentCarriesContact()
    {
        var request = Encoding.ASCII.GetString(HttpProbe.BuildRequest(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 8080), "Crawler/1", new Uri("https://example.org/scan")));
        Assert.Equal("GET / HTTP/1.1\r\nHost: 192.0.2.7:8080\r\nUser-Agent: Crawler/1 (+https://example.org/scan)\r\nAccept: */*\r\nConnection: close\r\n\r\n", request);
    }

    [Fact]
    public void BuildRequest_IPv6Port80_BracketsAddressAndOmitsPort()
    {
        var request = Encoding.ASCII.GetString(HttpProbe.BuildRequest(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 80), "C/1", new Uri("https://example.org/")));
        Assert.Contains("\r\nHost: [2001:db8::1]\r\n", request, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", true)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell", false)]
    [InlineData("HTTP/1.1 200 OK\r\ncontent-length:0\r\n\r\n", true)]
    [InlineData("HTTP/1.1 204 No Content\r\n\r\n", true)]
    [InlineData("HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n", true)]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\n", false)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", false)]
    [InlineData("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close", false)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", true)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: y\r\n\r\n", true)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", false)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\na\r\n0123456789\r\n0\r\n", false)]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n", false)]
    public void IsComplete_Framing_FollowsRfc9112(string response, bool complete)
    {
        Assert.Equal(complete, HttpProbe.IsComplete(Encoding.ASCII.GetBytes(response)));
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\n", 80, "http")]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n", 22, "ssh")]
    [InlineData("220 ProFTPD Server ready\r\n", 2100, "ftp")]
    [InlineData("220 mx.example.org ESMTP Postfix\r\n", 2500, "smtp")]
    [InlineData("220 Welcome\r\n", 21, "ftp")]
    [InlineData("220 Welcome\r\n", 587, "smtp")]
    [InlineData("220 Welcome\r\n", 9999, null)]
    [InlineData("+OK Dovecot ready.\r\n", 110, "pop3")]
    [InlineData("* OK [CAPABILITY IMAP4rev1] ready\r\n", 143, "imap")]
    [InlineData("RFB 003.008\n", 5900, "vnc")]
    [InlineData("\xff\xfd\x18", 23, "telnet")]
    [InlineData("hello", 1234, null)]
    public void ModuleGuess_FirstBytes_GiveModule(string banner, int port, string? module)
    {
        Assert.Equal(module, ModuleGuess.FromBanner(Encoding.Latin1.GetBytes(banner), port));
    }
}
