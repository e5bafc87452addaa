using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Grabbers.Tls;

/// <summary>
/// TLS, implicit or after STARTTLS (smtp, imap, pop3, ftp). Three looks, each on its own capped connection:
/// <list type="number">
/// <item>our own ClientHello offering TLS 1.0-1.3, whose raw ServerHello gives JA3S (parsed by <see cref="TlsParser"/>);</item>
/// <item>a full handshake through SslStream for the certificate chain (TLS 1.3 encrypts certificates), the
/// negotiated version, cipher and ALPN;</item>
/// <item>one ClientHello per version for <c>ssl.versions</c> (refused ones with Shodan's '-' prefix).</item>
/// </list>
/// Garbage, endless alerts or a stall in the first look end the grab at once (handshake error or I/O timeout).
/// Fills Shodan's <c>ssl</c> section and the tags <c>starttls</c>, <c>self-signed</c>, <c>expired-cert</c>;
/// it leaves module, product and data to the grabber of the protocol inside.
/// </summary>
internal sealed class TlsGrabber : IGrabber
{
    private static readonly IReadOnlyList<string> HttpAlpn = ["h2", "http/1.1"];

    public string Name => "ssl";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } =
    [
        "ssl", "tls", "https", "ssl/http", "https-alt", "imaps", "pop3s", "smtps", "submissions", "ftps", "ldaps", "ssl/imap", "ssl/pop3", "ssl/smtp",
        "smtp", "submission", "imap", "pop3", "ftp",
    ];

    public IReadOnlyList<int> Ports { get; } = [21, 25, 110, 143, 443, 465, 563, 587, 636, 853, 990, 993, 995, 8443];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var mode = StartTls.ModeFor(context);
        var ssl = new TlsSection { Starttls = mode != StartTlsProtocol.None };
        var record = new ServiceRecord { Ssl = ssl };
        if (ssl.Starttls)
        {
            record.Tags.Add("starttls");
        }

        var alpn = mode == StartTlsProtocol.None ? HttpAlpn : null;
        var sni = context.Target.ServerName;
        return GrabGuard.RunAsync(context, "the TLS grab", record, async deadline =>
        {
            // 1. Our ClientHello: JA3S and the parameters a modern client gets. Garbage or a stall ends the grab here.
            var first = await ProbeAsync(context, mode, TlsClientHello.Build(sni, null, alpn), deadline, cancellationToken).ConfigureAwait(false);
            string? refusal = null;
            if (first.IsAlert)
            {
                refusal = $"the server refused our ClientHello with a {TlsNames.Alert(first.AlertDescription)} alert";
            }
            else
            {
                ssl.Ja3S = first.Ja3s;
                ssl.Version = TlsNames.Version(first.Version);
                ssl.Cipher = TlsNames.Cipher(first.CipherSuite);
                ssl.CipherBits = TlsNames.CipherBits(ssl.Cipher);
                ssl.Alpn = first.Alpn ?? string.Empty;
            }

            // 2. A full handshake for the certificates.
            GrabLimitException? handshakeError = null;
            try
            {
                await CaptureAsync(context, mode, alpn, ssl, record, deadline, cancellationToken).ConfigureAwait(false);
            }
            catch (GrabLimitException ex)
            {
                handshakeError = ex;
            }

            // 3. Which versions the server accepts.
            await ProbeVersionsAsync(context, mode, alpn, first, ssl, deadline, cancellationToken).ConfigureAwait(false);

            if (handshakeError is not null)
            {
                return GrabResult.Failed(handshakeError.Outcome, refusal is null ? handshakeError.Message : refusal + "; " + handshakeError.Message, record);
            }

            return GrabResult.Success(record);
        }, cancellationToken);
    }

    /// <summary>Connects (and runs STARTTLS), sends one ClientHello, parses the reply. Throws for garbage, stalls and silence.</summary>
    internal static async ValueTask<TlsResult> ProbeAsync(GrabContext context, StartTlsProtocol mode, byte[] clientHello, CancellationToken deadline, CancellationToken cancellationToken)
    {
        var connection = await context.Network.ConnectAsync(context.Target, context.Limits, deadline).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await StartTls.NegotiateAsync(connection, mode, cancellationToken).ConfigureAwait(false);
            await connection.WriteAsync(clientHello, cancellationToken).ConfigureAwait(false);
            var parser = new TlsParser();
            var before = connection.BytesRead;
            ParsedRead read;
            try
            {
                read = await connection.ReadParsedAsync(parser, int.MaxValue, cancellationToken).ConfigureAwait(false);
            }
            catch (GrabLimitException ex) when (ex.Outcome == GrabOutcome.IoTimeout)
            {
                var received = connection.BytesRead - before;
                throw new GrabLimitException(GrabOutcome.IoTimeout, received == 0
                    ? "no answer to our ClientHello: " + ex.Message
                    : $"the server stalled after {received} bytes of its ServerHello: " + ex.Message);
            }

            if (read.Status != ParseStatus.Complete)
            {
                throw new GrabLimitException(GrabOutcome.HandshakeError, parser.Error ?? "the TLS reply could not be parsed");
            }

            return parser.Result!;
        }
    }

    private static async ValueTask CaptureAsync(GrabContext context, StartTlsProtocol mode, IReadOnlyList<string>? alpn, TlsSection ssl, ServiceRecord record, CancellationToken deadline, CancellationToken cancellationToken)
    {
        var connection = await context.Network.ConnectAsync(context.Target, context.Limits, deadline).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await StartTls.NegotiateAsync(connection, mode, cancellationToken).ConfigureAwait(false);
            X509Certificate2? leaf = null;
            var sent = new List<X509Certificate2>();
            var stream = new SslStream(new GrabConnectionStream(connection), leaveInnerStreamOpen: false, (_, certificate, chain, _) =>
            {
                // We record whatever the server presents; nothing is trusted or refused here.
                if (certificate is not null)
                {
                    leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                }

                if (chain is not null)
                {
                    foreach (var extra in chain.ChainPolicy.ExtraStore)
                    {
                        sent.Add(X509CertificateLoader.LoadCertificate(extra.RawData));
                    }
                }

                return true;
            });
            await using (stream.ConfigureAwait(false))
            {
                var options = new SslClientAuthenticationOptions
                {
                    TargetHost = context.Target.ServerName ?? string.Empty,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    EnabledSslProtocols = SslProtocols.None,
                    ApplicationProtocols = alpn?.Select(p => new SslApplicationProtocol(p)).ToList(),
                };
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline);
                timeout.CancelAfter(context.Limits.ReadTimeout * 2);
                try
                {
                    await stream.AuthenticateAsClientAsync(options, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new GrabLimitException(GrabOutcome.IoTimeout, "the TLS handshake did not finish in time");
                }
                catch (Exception ex) when (Find<GrabLimitException>(ex) is { } limit)
                {
                    throw new GrabLimitException(limit.Outcome, "TLS handshake: " + limit.Message);
                }
                catch (Exception ex) when (ex is AuthenticationException or IOException)
                {
                    throw new GrabLimitException(GrabOutcome.HandshakeError, "TLS handshake failed: " + Innermost(ex).Message);
                }

                ssl.Version = ProtocolName(stream.SslProtocol) ?? ssl.Version;
                ssl.Cipher = stream.NegotiatedCipherSuite.ToString();
                ssl.CipherBits = TlsNames.CipherBits(ssl.Cipher);
                ssl.Alpn = stream.NegotiatedApplicationProtocol.Protocol.IsEmpty ? string.Empty : stream.NegotiatedApplicationProtocol.ToString();
            }

            leaf ??= stream.RemoteCertificate is { } remote ? X509CertificateLoader.LoadCertificate(remote.GetRawCertData()) : null;
            if (leaf is null)
            {
                return;
            }

            var now = context.Time.GetUtcNow();
            var chainList = TlsCertificates.Order(leaf, sent);
            try
            {
                ssl.Chain.Clear();
                foreach (var certificate in chainList)
                {
                    ssl.Chain.Add(TlsCertificates.Describe(certificate, now));
                }
            }
            finally
            {
                foreach (var certificate in chainList.Concat(sent).Append(leaf).Distinct())
                {
                    certificate.Dispose();
                }
            }

            if (ssl.Chain[0].SelfSigned)
            {
                record.Tags.Add("self-signed");
            }

            if (ssl.Chain[0].Expired)
            {
                record.Tags.Add("expired-cert");
            }
        }
    }

    private static async ValueTask ProbeVersionsAsync(GrabContext context, StartTlsProtocol mode, IReadOnlyList<string>? alpn, TlsResult first, TlsSection ssl, CancellationToken deadline, CancellationToken cancellationToken)
    {
        var versions = new List<string>(4);
        foreach (var version in TlsClientHello.ProbedVersions)
        {
            var name = TlsNames.Version(version);
            if (!first.IsAlert && first.Version == version)
            {
                versions.Add(name);
                continue;
            }

            bool accepted;
            try
            {
                var reply = await ProbeAsync(context, mode, TlsClientHello.Build(context.Target.ServerName, version, alpn), deadline, cancellationToken).ConfigureAwait(false);
                accepted = !reply.IsAlert && reply.Version == version;
            }
            catch (GrabLimitException ex) when (ex.Outcome is GrabOutcome.HandshakeError or GrabOutcome.Closed)
            {
                // Hanging up on a ClientHello is how many servers refuse a version.
                accepted = false;
            }
            catch (GrabLimitException)
            {
                // A timeout tells nothing about this version; later ones would cost the same wait, so stop.
                break;
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
                accepted = false;
            }

            versions.Add(accepted ? name : "-" + name);
        }

        ssl.Versions.Clear();
        ssl.Versions.AddRange(versions);
    }

    /// <summary>OpenSSL's name for a negotiated protocol, by the SslProtocols value (some members are obsolete to name).</summary>
    private static string? ProtocolName(SslProtocols protocol) => (int)protocol switch
    {
        12288 => "TLSv1.3",
        3072 => "TLSv1.2",
        768 => "TLSv1.1",
        192 => "TLSv1",
        48 => "SSLv3",
        _ => null,
    };

    private static T? Find<T>(Exception ex)
        where T : Exception
    {
        for (var current = (Exception?)ex; current is not null; current = current.InnerException)
        {
            if (current is T found)
            {
                return found;
            }
        }

        return null;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }
}
