using System.Runtime.InteropServices;

namespace ExposureIndex.Grabbers.Ldap;

/// <summary>
/// Incremental parser of a server's answer to one search (RFC 4511 §4.5.2): LDAPMessages (§4.1.1), each a BER
/// SEQUENCE { messageID, protocolOp, controls? }, until the SearchResultDone. Entries and references may come
/// first; an unsolicited Notice of Disconnection (§4.4.1) ends the answer too. Each message's declared length is
/// capped before it is buffered, and entries, attributes, values and text are all capped, so a hostile server
/// cannot make this allocate without bound. Pure: no sockets, no clock.
/// </summary>
internal sealed class LdapParser : IIncrementalParser<LdapResult>
{
    public const int MaxMessageBytes = 1024 * 1024;
    public const int MaxEntries = 8;
    public const int MaxAttributes = 256;
    public const int MaxValuesPerAttribute = 256;
    private const int MaxMessages = 64;
    private const int MaxTextChars = 4096;

    private const byte SearchResultEntry = 0x64;      // [APPLICATION 4]
    private const byte SearchResultDone = 0x65;       // [APPLICATION 5]
    private const byte SearchResultReference = 0x73;  // [APPLICATION 19]
    private const byte ExtendedResponse = 0x78;       // [APPLICATION 24]

    private readonly List<byte> _buffer = new(1024);
    private readonly List<LdapEntry> _entries = [];
    private int _messages;
    private ParseStatus _status = ParseStatus.NeedMore;

    public LdapResult? Result { get; private set; }

    public string? Error { get; private set; }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        if (_status != ParseStatus.NeedMore)
        {
            return _status;
        }

        _buffer.AddRange(chunk);
        var consumed = 0;
        try
        {
            while (_status == ParseStatus.NeedMore)
            {
                var data = CollectionsMarshal.AsSpan(_buffer)[consumed..];
                if (data.IsEmpty)
                {
                    break;
                }

                if (data[0] != Ber.Sequence)
                {
                    return Fail($"LDAP message {_messages} starts with 0x{data[0]:x2}, not a SEQUENCE");
                }

                var measure = Ber.TryMeasure(data, MaxMessageBytes, out var total, out var error);
                if (measure == ParseStatus.Invalid)
                {
                    return Fail($"LDAP message {_messages}: {error}");
                }

                if (measure == ParseStatus.NeedMore)
                {
                    break;
                }

                if (++_messages > MaxMessages)
                {
                    return Fail($"more than {MaxMessages} LDAP messages without a SearchResultDone");
                }

                Handle(data[..total]);
                consumed += total;
            }
        }
        catch (BerException e)
        {
            return Fail(e.Message);
        }
        finally
        {
            _buffer.RemoveRange(0, Math.Min(consumed, _buffer.Count));
        }

        return _status;
    }

    public ParseStatus End()
        => _status == ParseStatus.NeedMore
            ? Fail(_messages == 0 && _buffer.Count == 0 ? "the server closed without answering the search" : "the server closed before SearchResultDone")
            : _status;

    private ParseStatus Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
        return _status;
    }

    private void Handle(ReadOnlySpan<byte> message)
    {
        var what = $"LDAP message {_messages - 1}";
        var outer = new BerReader(message, what);
        var reader = new BerReader(outer.Read(Ber.Sequence, "LDAPMessage"), what);
        var messageId = (int)Math.Clamp(reader.ReadInteger("messageID"), int.MinValue, int.MaxValue);
        var op = reader.Read(out var tag);
        switch (tag)
        {
            case SearchResultEntry:
                if (_entries.Count < MaxEntries)
                {
                    _entries.Add(ParseEntry(op, what));
                }

                break;
            case SearchResultReference:
                break;
            case SearchResultDone:
                var (code, matched, diagnostic) = ParseLdapResult(op, what);
                Result = new LdapResult(messageId, [.. _entries], code, matched, diagnostic, Disconnected: false);
                _status = ParseStatus.Complete;
                break;
            case ExtendedResponse when messageId == 0:
                // §4.4.1 Notice of Disconnection: the server is going away; keep its reason.
                var (noticeCode, _, noticeText) = ParseLdapResult(op, what);
                Result = new LdapResult(messageId, [.. _entries], noticeCode, string.Empty, noticeText, Disconnected: true);
                _status = ParseStatus.Complete;
                break;
            default:
                throw new BerException($"{what}: protocolOp 0x{tag:x2} is not a search response");
        }
    }

    /// <summary>SearchResultEntry ::= [APPLICATION 4] SEQUENCE { objectName LDAPDN, attributes PartialAttributeList }.</summary>
    private static LdapEntry ParseEntry(ReadOnlySpan<byte> content, string what)
    {
        var entry = new BerReader(content, what + " entry");
        var dn = entry.ReadString("objectName", MaxTextChars);
        var list = new BerReader(entry.Read(Ber.Sequence, "attributes"), what + " attributes");
        var attributes = new List<LdapAttribute>();
        while (list.HasMore && attributes.Count < MaxAttributes)
        {
            // PartialAttribute ::= SEQUENCE { type AttributeDescription, vals SET OF value }.
            var attribute = new BerReader(list.Read(Ber.Sequence, "PartialAttribute"), what + " attribute");
            var name = attribute.ReadString("type", 256);
            var set = new BerReader(attribute.Read(Ber.Set, "vals"), $"{what} values of {name}");
            var values = new List<string>();
            while (set.HasMore && values.Count < MaxValuesPerAttribute)
            {
                values.Add(set.ReadString("value", MaxTextChars));
            }

            attributes.Add(new LdapAttribute(name, values));
        }

        return new LdapEntry(dn, attributes);
    }

    /// <summary>LDAPResult ::= SEQUENCE { resultCode ENUMERATED, matchedDN, diagnosticMessage, referral [3] OPTIONAL }.</summary>
    private static (int Code, string Matched, string Diagnostic) ParseLdapResult(ReadOnlySpan<byte> content, string what)
    {
        var result = new BerReader(content, what + " result");
        var code = result.ReadInteger("resultCode", Ber.Enumerated);
        var matched = result.ReadString("matchedDN", MaxTextChars);
        var diagnostic = result.ReadString("diagnosticMessage", MaxTextChars);
        return ((int)Math.Clamp(code, int.MinValue, int.MaxValue), matched, diagnostic);
    }
}
