using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Postgresql;

/// <summary>
/// PostgreSQL: SSLRequest (records whether TLS is offered; the TLS grabber does the handshake), then a
/// StartupMessage for a made-up role with no password, and whatever the server answers before it would need a
/// credential: the authentication method it asks for, or the FATAL error it ends with. PostgreSQL does not reveal
/// its version before authentication, so the version stays empty unless the server volunteers server_version (a
/// startup that completes without a password). PgBouncer is told apart by its own errors.
/// </summary>
internal sealed partial class PostgresqlGrabber : IGrabber
{
    // PgBouncer's own refusals (its src/client.c and src/proto.c); PostgreSQL never words them like this.
    private static readonly string[] PgBouncerMessages =
    [
        "unsupported startup parameter", "bad packet header", "no such user", "no such database", "\"trust\" authentication failed",
        "server login has been failing", "no more connections allowed", "pooler is shut down", "client_login_timeout",
        "login rejected", "SSL required", "unsupported pkt type",
    ];

    public string Name => "postgresql";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["postgresql", "postgres"];

    public IReadOnlyList<int> Ports { get; } = [5432, 6432];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        var parser = new PostgresqlParser();
        return Conversation.GrabAsync(context, Name, parser, Describe, cancellationToken, deadline => ExchangeAsync(context, parser, deadline, cancellationToken));
    }

    private static async ValueTask<ConversationEnd> ExchangeAsync(GrabContext context, PostgresqlParser parser, CancellationToken deadline, CancellationToken cancellationToken)
    {
        var end = await Conversation.RunAsync(context, parser, deadline, cancellationToken, () => parser.AwaitingReconnect).ConfigureAwait(false);
        if (end.Paused)
        {
            // 'S': the first connection now expects TLS, so the plain StartupMessage goes on a second one. Its answer
            // says what a client that does not use TLS is told, which is the exposure question.
            end = await Conversation.RunAsync(context, parser, deadline, cancellationToken).ConfigureAwait(false);
        }

        return end;
    }

    internal static void Describe(ServiceRecord record, PostgresqlResult result)
    {
        var section = new PostgresqlSection
        {
            SslSupported = result.SslSupported == true,
            ProtocolVersion = result.NewestProtocol ?? (result.AuthenticationCodes.Count > 0 || result.Error is not null ? "3.0" : string.Empty),
            AuthRequired = result.AuthRequired,
            AuthenticationMethod = result.AuthenticationMethod ?? string.Empty,
        };
        section.UnrecognizedOptions.AddRange(result.UnrecognizedOptions);
        section.SaslMechanisms.AddRange(result.SaslMechanisms);
        if (result.Error is { } error)
        {
            section.Error = new PostgresqlError
            {
                Severity = error.Severity ?? string.Empty,
                Code = error.Code ?? string.Empty,
                Message = error.Message ?? string.Empty,
                Detail = error.Detail ?? string.Empty,
                Hint = error.Hint ?? string.Empty,
                File = error.File ?? string.Empty,
                Line = int.TryParse(error.Line, NumberStyles.None, CultureInfo.InvariantCulture, out var line) ? line : 0,
                Routine = error.Routine ?? string.Empty,
            };
        }

        foreach (var (name, value) in result.Parameters)
        {
            section.Parameters[name] = value;
        }

        record.Postgresql = section;
        record.Data = ByteString.CopyFrom(Encoding.UTF8.GetBytes(DataText(result)));
        if (Identify(result) is { } product)
        {
            record.Tags.Add("database");
            product.ApplyTo(record);
        }
    }

    /// <summary>
    /// PostgreSQL when it answered our probe option with NegotiateProtocolVersion, reported an error with its source
    /// location (F/L/R), or sent server_version; PgBouncer when an error without a source location uses PgBouncer's
    /// words. A bare authentication request proves neither, so it names nothing.
    /// </summary>
    internal static ProductMatch? Identify(PostgresqlResult result)
    {
        if (result.Parameter("server_version") is { Length: > 0 } serverVersion && ServerVersion().Match(serverVersion) is { Success: true } m)
        {
            var version = m.Groups["v"].Value;
            var os = m.Groups["o"] is { Success: true } o ? o.Value : null;
            return new ProductMatch("PostgreSQL", version, null, os, Cpe.Application("postgresql", "postgresql", version));
        }

        if (result.Error is { HasSourceLocation: false } error && IsPgBouncer(error))
        {
            return new ProductMatch("PgBouncer", null, null, null, Cpe.Application("pgbouncer", "pgbouncer", null));
        }

        if (result.NegotiatedVersion is not null || result.Error?.HasSourceLocation == true || result.Parameter("server_version") is not null)
        {
            return new ProductMatch("PostgreSQL", null, null, null, Cpe.Application("postgresql", "postgresql", null));
        }

        return null;
    }

    private static bool IsPgBouncer(PostgresqlErrorFields error)
    {
        var message = error.Message ?? string.Empty;
        return message.Contains("pgbouncer", StringComparison.OrdinalIgnoreCase)
            || PgBouncerMessages.Any(m => message.StartsWith(m, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A readable banner: the facts the exchange established, one per line.</summary>
    internal static string DataText(PostgresqlResult result)
    {
        var sb = new StringBuilder();
        if (result.SslSupported is { } ssl)
        {
            sb.Append("SSL: ").Append(ssl ? "supported" : "not supported").Append('\n');
        }

        if (result.NewestProtocol is { } protocol)
        {
            sb.Append("Protocol: ").Append(protocol).Append('\n');
        }

        if (result.UnrecognizedOptions.Count > 0)
        {
            sb.Append("Unrecognized options: ").Append(string.Join(", ", result.UnrecognizedOptions)).Append('\n');
        }

        if (result.AuthenticationMethod is { } method)
        {
            sb.Append("Authentication: ").Append(method);
            if (result.SaslMechanisms.Count > 0)
            {
                sb.Append(" (SASL ").Append(string.Join(", ", result.SaslMechanisms)).Append(')');
            }

            sb.Append('\n');
        }

        if (result.Error is { } error)
        {
            sb.Append("Error: ").Append(error.Severity).Append(' ').Append(error.Code).Append(": ").Append(error.Message).Append('\n');
            if (error.Detail is { } detail)
            {
                sb.Append("Detail: ").Append(detail).Append('\n');
            }

            if (error.Hint is { } hint)
            {
                sb.Append("Hint: ").Append(hint).Append('\n');
            }

            if (error.HasSourceLocation)
            {
                sb.Append("Source: ").Append(error.File).Append(':').Append(error.Line).Append(' ').Append(error.Routine).Append('\n');
            }
        }

        foreach (var (name, value) in result.Parameters)
        {
            sb.Append(name).Append(": ").Append(value).Append('\n');
        }

        return sb.ToString();
    }

    // "15.18 (Debian 15.18-0+deb12u1)", "16.4", "17beta1".
    [GeneratedRegex(@"^(?<v>\d+(?:\.\d+)*(?:(?:beta|rc|devel)\d*)?)(?:\s*\((?<o>Debian|Ubuntu)\b)?", RegexOptions.CultureInvariant, 200)]
    private static partial Regex ServerVersion();
}
