using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// A throw-away self-signed certificate and its unencrypted key, made by openssl(1) in a daemon's temp dir, so that
/// fixtures can offer TLS (STARTTLS, AUTH TLS) and a TLS grabber has something real to shake hands with.
/// </summary>
public sealed record SelfSignedCertificate(string CertificatePath, string KeyPath, string CommonName)
{
    /// <summary>Writes <c>cert.pem</c> and <c>key.pem</c> (RSA 2048, valid for a week) into <paramref name="directory"/>.</summary>
    public static async Task<SelfSignedCertificate> CreateAsync(string directory, string commonName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(commonName);
        var openssl = Requires.Executable("openssl", "openssl");
        var cert = Path.Combine(directory, "cert.pem");
        var key = Path.Combine(directory, "key.pem");
        string[] args =
        [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", 7.ToString(CultureInfo.InvariantCulture),
            "-keyout", key, "-out", cert, "-subj", "/CN=" + commonName, "-addext", "subjectAltName=DNS:" + commonName,
        ];
        (await Tool.RunAsync(new DaemonCommand(openssl, args), TimeSpan.FromSeconds(60), directory, cancellationToken).ConfigureAwait(false)).EnsureSuccess();
        return new SelfSignedCertificate(cert, key, commonName);
    }
}
