using ExposureIndex.Grabbers.Http;

namespace ExposureIndex.Grabbers.Tests.Http;

public sealed class HttpServerProductsTests
{
    [Theory]
    [InlineData("nginx/1.22.1", "nginx", "1.22.1", "", "cpe:2.3:a:f5:nginx:1.22.1:*:*:*:*:*:*:*")]
    [InlineData("nginx", "nginx", "", "", "cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*")]
    [InlineData("Apache/2.4.57 (Debian)", "Apache httpd", "2.4.57", "Debian", "cpe:2.3:a:apache:http_server:2.4.57:*:*:*:*:*:*:*")]
    [InlineData("Apache/2.4.41 (Ubuntu) OpenSSL/1.1.1f", "Apache httpd", "2.4.41", "Ubuntu", "cpe:2.3:a:apache:http_server:2.4.41:*:*:*:*:*:*:*")]
    [InlineData("Apache", "Apache httpd", "", "", "cpe:2.3:a:apache:http_server:*:*:*:*:*:*:*:*")]
    [InlineData("Microsoft-IIS/10.0", "Microsoft IIS httpd", "10.0", "Windows", "cpe:2.3:a:microsoft:internet_information_services:10.0:*:*:*:*:*:*:*")]
    [InlineData("Jetty(9.4.51.v20230217)", "Jetty", "9.4.51.v20230217", "", "cpe:2.3:a:eclipse:jetty:9.4.51.v20230217:*:*:*:*:*:*:*")]
    [InlineData("Werkzeug/2.2.2 Python/3.11.2", "Werkzeug httpd", "2.2.2", "", "cpe:2.3:a:palletsprojects:werkzeug:2.2.2:*:*:*:*:*:*:*")]
    [InlineData("Apache-Coyote/1.1", "Apache Tomcat/Coyote JSP engine", "1.1", "", "cpe:2.3:a:apache:coyote_http_connector:1.1:*:*:*:*:*:*:*")]
    [InlineData("MyServer/3.1", "MyServer", "3.1", "", "cpe:2.3:a:myserver:myserver:3.1:*:*:*:*:*:*:*")]
    public void TryParse_ServerHeader_ProductVersionOsCpe(string header, string product, string version, string os, string cpe)
    {
        Assert.True(HttpServerProducts.TryParse(header, out var info));

        Assert.Equal(product, info.Product);
        Assert.Equal(version, info.Version ?? string.Empty);
        Assert.Equal(os, info.Os ?? string.Empty);
        Assert.Equal(cpe, info.Cpe23);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("/1.0")]
    [InlineData("\u0001\u0002")]
    public void TryParse_EmptyOrJunk_False(string? header) => Assert.False(HttpServerProducts.TryParse(header, out _));
}
