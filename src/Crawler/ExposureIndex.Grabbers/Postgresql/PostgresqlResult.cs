namespace ExposureIndex.Grabbers.Postgresql;

/// <summary>An ErrorResponse's fields (PostgreSQL protocol, "Error and Notice Message Fields"), by field code.</summary>
internal sealed record PostgresqlErrorFields(IReadOnlyList<KeyValuePair<char, string>> Fields)
{
    /// <summary>V (non-localized, 9.6+), else S.</summary>
    public string? Severity => Field('V') ?? Field('S');

    public string? Code => Field('C');

    public string? Message => Field('M');

    public string? Detail => Field('D');

    public string? Hint => Field('H');

    public string? File => Field('F');

    public string? Line => Field('L');

    public string? Routine => Field('R');

    /// <summary>PostgreSQL itself reports where in its source the error arose (F, L, R); poolers and look-alikes do not.</summary>
    public bool HasSourceLocation => File is not null && Routine is not null;

    public string? Field(char code) => Fields.Where(f => f.Key == code).Select(f => f.Value).FirstOrDefault();
}

/// <summary>What a PostgreSQL-protocol server says to SSLRequest and to a StartupMessage that carries no password.</summary>
internal sealed record PostgresqlResult
{
    /// <summary>'S' or 'N' to SSLRequest; null when it answered otherwise (or not yet).</summary>
    public bool? SslSupported { get; init; }

    /// <summary>
    /// NegotiateProtocolVersion's version field. The docs call it the newest minor version; PostgreSQL sends the
    /// whole protocol code (major &lt;&lt; 16 | minor, 196608 for 3.0), so both readings are accepted.
    /// </summary>
    public int? NegotiatedVersion { get; init; }

    /// <summary>The newest protocol the server said it speaks, "3.0", or null when it did not say.</summary>
    public string? NewestProtocol => NegotiatedVersion switch
    {
        null => null,
        var v when v >= 0x10000 => $"{v >> 16}.{v & 0xffff}",
        var v => $"3.{v}",
    };

    /// <summary>NegotiateProtocolVersion: our protocol options it did not recognise.</summary>
    public IReadOnlyList<string> UnrecognizedOptions { get; init; } = [];

    /// <summary>The Authentication request code (0 ok, 3 cleartext, 5 MD5, 7 GSS, 9 SSPI, 10 SASL ...), if one came.</summary>
    public IReadOnlyList<int> AuthenticationCodes { get; init; } = [];

    public IReadOnlyList<string> SaslMechanisms { get; init; } = [];

    public PostgresqlErrorFields? Error { get; init; }

    /// <summary>ParameterStatus pairs: only sent when the startup completes, i.e. without any password.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; init; } = [];

    /// <summary>The server's bytes as received: the SSLRequest answer, then its startup messages.</summary>
    public required byte[] Raw { get; init; }

    /// <summary>The code of the request for a credential (anything but 0 = AuthenticationOk), if one came.</summary>
    public int? CredentialRequest => AuthenticationCodes.Where(c => c != 0).Select(c => (int?)c).FirstOrDefault();

    public bool AuthRequired => CredentialRequest is not null;

    /// <summary>The method the server asked for, named as pg_hba.conf names it; "trust" when it let us in without one.</summary>
    public string? AuthenticationMethod => CredentialRequest switch
    {
        null when AuthenticationCodes.Contains(0) => "trust",
        null => null,
        2 => "kerberos-v5",
        3 => "password",
        5 => "md5",
        6 => "scm-credential",
        7 => "gss",
        9 => "sspi",
        10 => SaslMechanisms.Contains("SCRAM-SHA-256") ? "scram-sha-256" : "sasl",
        var other => "auth-" + other.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public string? Parameter(string name) => Parameters.Where(p => p.Key == name).Select(p => p.Value).FirstOrDefault();
}
