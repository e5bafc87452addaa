using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Engine;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Fingerprinting.Probes;
using ExposureIndex.Grabbers;
using Google.Protobuf;

namespace ExposureIndex.Crawler.Tests.Engine;

public sealed class RecordAssemblerTests
{
    private static readonly ServiceMatch Line = MakeLine();

    private static ServiceMatch MakeLine()
    {
        Assert.True(ProbeFileParser.TryParseMatch("http m|^x|", soft: false, "test", 7, TimeSpan.FromSeconds(1), out var match, out var error), error);
        return match;
    }

    private static ServiceIdentification Identified(string service, string? product, string? version, params string[] cpes) => new()
    {
        Service = service,
        Fingerprint = new ServiceFingerprint { Service = service, IsSoft = false, Product = product, Version = version, Info = "probe info", Cpe23 = cpes, Match = Line },
        Banner = Encoding.ASCII.GetBytes("NULL banner"),
        Response = Encoding.ASCII.GetBytes("probe answer"),
        ProbeName = "HTTPGet",
    };

    private static GrabResult Grab(ServiceRecord fragment) => GrabResult.Success(fragment);

    [Fact]
    public void Assemble_ProbeOnly_TakesTheMatchAndTheMatchedAnswer()
    {
        var record = RecordAssembler.Assemble(Identified("http", "nginx", "1.22.1", "cpe:2.3:a:f5:nginx:1.22.1:*:*:*:*:*:*:*"), []);

        Assert.Equal("http", record.Module);
        Assert.Equal("nginx", record.Product);
        Assert.Equal("1.22.1", record.Version);
        Assert.Equal("probe info", record.Info);
        Assert.Equal(["cpe:2.3:a:f5:nginx:1.22.1:*:*:*:*:*:*:*"], record.Cpe23);
        Assert.Equal("probe answer", record.Data.ToStringUtf8());
        Assert.Equal("HTTPGet", record.Opts["probe"]);
        Assert.Equal("test:7", record.Opts["match"]);
    }

    [Fact]
    public void Assemble_GrabberProductAndVersion_WinButTheProbeCpeStaysWhenTheGrabberHasNone()
    {
        var fragment = new ServiceRecord { Module = "http", Product = "Apache httpd", Version = "2.4.62", Data = ByteString.CopyFromUtf8("HTTP/1.1 200 OK\r\n"), Http = new HttpSection { Status = 200 } };
        var record = RecordAssembler.Assemble(Identified("http", "nginx", "1.0", "cpe:2.3:a:probe:cpe:1.0:*:*:*:*:*:*:*"), [Grab(fragment)]);

        Assert.Equal("Apache httpd", record.Product);
        Assert.Equal("2.4.62", record.Version);
        Assert.Equal(["cpe:2.3:a:probe:cpe:1.0:*:*:*:*:*:*:*"], record.Cpe23);
        Assert.Equal("HTTP/1.1 200 OK\r\n", record.Data.ToStringUtf8());
        Assert.Equal(200, record.Http.Status);
    }

    [Fact]
    public void Assemble_GrabberCpe_ReplacesTheProbes()
    {
        var fragment = new ServiceRecord { Product = "OpenSSH", Version = "9.2p1", Cpe23 = { "cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*" } };
        var record = RecordAssembler.Assemble(Identified("ssh", "OpenSSH", "9.2p1", "cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*"), [Grab(fragment)]);

        Assert.Equal(["cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*"], record.Cpe23);
    }

    [Fact]
    public void Assemble_GrabberWithSameProductAndNoVersion_KeepsTheProbeVersion()
    {
        var fragment = new ServiceRecord { Product = "nginx" };
        var record = RecordAssembler.Assemble(Identified("http", "nginx", "1.22.1"), [Grab(fragment)]);

        Assert.Equal("1.22.1", record.Version);
    }

    [Fact]
    public void Assemble_NoGrabberData_FallsBackToTheNullBanner()
    {
        var identification = Identified("ssh", "OpenSSH", "9.2p1") with { Response = [] };
        Assert.Equal("NULL banner", RecordAssembler.Assemble(identification, []).Data.ToStringUtf8());
    }

    [Fact]
    public void Assemble_TlsGrabberThenServiceGrabber_ModuleNamesTheServiceAndTagsComeFromTheCertificate()
    {
        var tls = new ServiceRecord { Module = "ssl", Ssl = new TlsSection { Version = "TLSv1.3", Chain = { new Certificate { SelfSigned = true, Expired = true } } } };
        var http = new ServiceRecord { Module = "https", Http = new HttpSection { Status = 200 } };
        var identification = Identified("http", "nginx", "1.22.1") with { Tls = true };
        var record = RecordAssembler.Assemble(identification, [Grab(tls), Grab(http)]);

        Assert.Equal("https", record.Module);
        Assert.Equal("TLSv1.3", record.Ssl.Version);
        Assert.Contains("self-signed", record.Tags);
        Assert.Contains("expired-cert", record.Tags);
        Assert.Equal("ssl", record.Opts["tunnel"]);
    }

    [Fact]
    public void Assemble_StartTls_IsTagged()
    {
        var tls = new ServiceRecord { Module = "ssl", Ssl = new TlsSection { Starttls = true } };
        var record = RecordAssembler.Assemble(Identified("smtp", "Postfix smtpd", null), [Grab(tls)]);

        Assert.Equal("smtp", record.Module);
        Assert.Contains("starttls", record.Tags);
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("mysql")]
    [InlineData("postgresql")]
    [InlineData("mongodb")]
    [InlineData("memcached")]
    [InlineData("elasticsearch")]
    public void Assemble_DataStore_IsTaggedDatabase(string service)
        => Assert.Contains("database", RecordAssembler.Assemble(Identified(service, "x", null), []).Tags);

    [Fact]
    public void Assemble_WebServer_IsNotTaggedDatabase()
        => Assert.DoesNotContain("database", RecordAssembler.Assemble(Identified("http", "nginx", null), []).Tags);

    [Fact]
    public void Assemble_GrabberTags_AreKeptOnceEach()
    {
        var fragment = new ServiceRecord { Tags = { "database", "custom" } };
        var record = RecordAssembler.Assemble(Identified("redis", "Redis key-value store", "7.0.15"), [Grab(fragment), Grab(fragment.Clone())]);

        Assert.Equal(["database", "custom"], record.Tags);
    }

    [Fact]
    public void Assemble_NothingMatched_GuessesTheModuleFromTheBanner()
    {
        var identification = new ServiceIdentification { Banner = Encoding.ASCII.GetBytes("SSH-2.0-Whatever\r\n") };
        var record = RecordAssembler.Assemble(identification, [], port: 2222);

        Assert.Equal("ssh", record.Module);
        Assert.Equal("", record.Product);
        Assert.Equal("SSH-2.0-Whatever\r\n", record.Data.ToStringUtf8());
    }
}
