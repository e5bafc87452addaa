using System.Text;

namespace ExposureIndex.Grabbers.Dns;

/// <summary>One resource record (RFC 1035 §4.1.3). TXT data is split into its character-strings.</summary>
internal sealed record DnsRecord(string Name, int Type, int Class, uint Ttl, int DataLength, IReadOnlyList<string> Texts)
{
    public string Canonical() => $"{Name}/{Type}/{Class}/{Ttl}/{DataLength}/[{string.Join('|', Texts)}]";
}

/// <summary>A DNS reply (RFC 1035 §4.1): header flags, the question, and the answer records.</summary>
internal sealed record DnsResult(
    int Id,
    bool IsResponse,
    int Opcode,
    bool Authoritative,
    bool Truncated,
    bool RecursionDesired,
    bool RecursionAvailable,
    int ResponseCode,
    string? QuestionName,
    int QuestionType,
    int QuestionClass,
    IReadOnlyList<DnsRecord> Answers,
    int AuthorityCount,
    int AdditionalCount)
{
    /// <summary>The response code's mnemonic (RFC 1035 §4.1.1, RFC 6895 §2.3).</summary>
    public string ResponseCodeName => ResponseCode switch
    {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => "RCODE" + ResponseCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The first TXT answer's strings joined, or null: what a CHAOS TXT query asked for.</summary>
    public string? FirstText => Answers.FirstOrDefault(a => a.Type == DnsQuery.TypeTxt)?.Texts is { Count: > 0 } texts ? string.Concat(texts) : null;

    public string Canonical()
    {
        var sb = new StringBuilder();
        sb.Append(Id).Append(IsResponse).Append(Opcode).Append(Authoritative).Append(Truncated).Append(RecursionDesired).Append(RecursionAvailable)
            .Append(ResponseCode).Append(QuestionName).Append(QuestionType).Append(QuestionClass).Append(AuthorityCount).Append(AdditionalCount);
        foreach (var answer in Answers)
        {
            sb.Append(';').Append(answer.Canonical());
        }

        return sb.ToString();
    }
}
