using System.Text;

namespace ExposureIndex.Grabbers.Ldap;

/// <summary>One attribute of a search result entry with its values, as sent.</summary>
internal sealed record LdapAttribute(string Name, IReadOnlyList<string> Values);

/// <summary>A SearchResultEntry (RFC 4511 §4.5.2).</summary>
internal sealed record LdapEntry(string Dn, IReadOnlyList<LdapAttribute> Attributes)
{
    /// <summary>Values of <paramref name="name"/> (attribute descriptions are case-insensitive, RFC 4512 §2.5).</summary>
    public IReadOnlyList<string> Values(string name)
        => Attributes.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase))?.Values ?? [];

    public string? First(string name) => Values(name) is [var first, ..] ? first : null;
}

/// <summary>The answer to our root DSE search: the entries and the SearchResultDone (RFC 4511 §4.5.2, §4.1.9).</summary>
internal sealed record LdapResult(int MessageId, IReadOnlyList<LdapEntry> Entries, int ResultCode, string MatchedDn, string DiagnosticMessage, bool Disconnected)
{
    public LdapEntry? RootDse => Entries.FirstOrDefault(e => e.Dn.Length == 0) ?? Entries.FirstOrDefault();

    /// <summary>RFC 4511 appendix A result code names.</summary>
    public string ResultName => ResultCode switch
    {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        8 => "strongerAuthRequired",
        13 => "confidentialityRequired",
        32 => "noSuchObject",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "resultCode " + ResultCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public string Canonical()
    {
        var sb = new StringBuilder();
        sb.Append(MessageId).Append('|').Append(ResultCode).Append('|').Append(MatchedDn).Append('|').Append(DiagnosticMessage).Append('|').Append(Disconnected);
        foreach (var entry in Entries)
        {
            sb.Append("\ndn:").Append(entry.Dn);
            foreach (var attribute in entry.Attributes)
            {
                sb.Append('\n').Append(attribute.Name).Append('=').Append(string.Join('|', attribute.Values));
            }
        }

        return sb.ToString();
    }
}
