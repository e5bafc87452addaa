using System.Globalization;
using System.Text;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Grabbers.Tls;

/// <summary>The plaintext protocols we upgrade with STARTTLS before capturing TLS.</summary>
internal enum StartTlsProtocol
{
    /// <summary>Implicit TLS: the ClientHello is the first thing sent.</summary>
    None = 0,
    Smtp = 1,
    Imap = 2,
    Pop3 = 3,
    Ftp = 4,
}

/// <summary>How a reply is delimited.</summary>
internal enum ReplyStyle
{
    /// <summary>SMTP (RFC 5321 §4.2.1) and FTP (RFC 959 §4.2): "ddd-" continues, "ddd " ends.</summary>
    Numeric = 0,

    /// <summary>POP3 (RFC 1939 §3): one "+OK" or "-ERR" line.</summary>
    Pop3 = 1,

    /// <summary>IMAP greeting (RFC 9051 §7.1): one untagged "* OK" line.</summary>
    ImapGreeting = 2,

    /// <summary>IMAP tagged completion (RFC 9051 §2.2.2): untagged lines until the line with our tag.</summary>
    ImapTagged = 3,
}

/// <summary>One reply: the numeric code (Numeric style), whether it means success, and its lines.</summary>
internal sealed record StartTlsReply(int Code, bool Ok, IReadOnlyList<string> Lines)
{
    public string Text => string.Join("\n", Lines);

    public string Canonical() => $"{Code}|{Ok}|{string.Join("\n", Lines)}";
}

/// <summary>Incremental parser of one line-based reply in a STARTTLS dialogue. Lines and line counts are capped.</summary>
internal sealed class StartTlsParser(ReplyStyle style, string tag = "a001") : IIncrementalParser<StartTlsReply>
{
    public const int MaxLineBytes = 4096;
    public const int MaxLines = 256;

    private readonly List<byte> _line = new(128);
    private readonly List<string> _lines = [];
    private int _code = -1;
    private ParseStatus _status = ParseStatus.NeedMore;

    public StartTlsReply? Result { get; private set; }

    public string? Error { get; private set; }

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        foreach (var b in chunk)
        {
            if (_status != ParseStatus.NeedMore)
            {
                break;
            }

            if (b == (byte)'\n')
            {
                var length = _line.Count > 0 && _line[^1] == (byte)'\r' ? _line.Count - 1 : _line.Count;
                var text = BannerText.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_line)[..length]);
                _line.Clear();
                OnLine(text);
            }
            else if (_line.Count >= MaxLineBytes)
            {
                Fail($"a reply line exceeds {MaxLineBytes} bytes");
            }
            else
            {
                _line.Add(b);
            }
        }

        return _status;
    }

    public ParseStatus End()
    {
        if (_status == ParseStatus.NeedMore)
        {
            Fail(_lines.Count == 0 && _line.Count == 0 ? "the server closed the connection without a reply" : "the server closed the connection in the middle of a reply");
        }

        return _status;
    }

    private void OnLine(string line)
    {
        if (_lines.Count >= MaxLines)
        {
            Fail($"a reply has more than {MaxLines} lines");
            return;
        }

        _lines.Add(line);
        switch (style)
        {
            case ReplyStyle.Numeric:
                var hasCode = line.Length >= 3 && char.IsAsciiDigit(line[0]) && char.IsAsciiDigit(line[1]) && char.IsAsciiDigit(line[2]);
                if (_code < 0)
                {
                    if (!hasCode)
                    {
                        Fail($"not a numeric reply: \"{Shorten(line)}\"");
                        return;
                    }

                    _code = int.Parse(line.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture);
                }

                // The last line repeats the code followed by a space (or nothing); FTP allows free text in between.
                if (hasCode && line.AsSpan(0, 3).SequenceEqual(_code.ToString("000", CultureInfo.InvariantCulture)) && (line.Length == 3 || line[3] == ' '))
                {
                    Complete(_code is >= 200 and < 400);
                }

                break;
            case ReplyStyle.Pop3:
                StatusLine(line, "a POP3 reply", ["+OK"], "-ERR");
                break;
            case ReplyStyle.ImapGreeting:
                StatusLine(line, "an IMAP greeting", ["* OK", "* PREAUTH"], "* BYE");
                break;
            case ReplyStyle.ImapTagged:
                if (line.StartsWith(tag + " ", StringComparison.OrdinalIgnoreCase))
                {
                    Complete(line.AsSpan(tag.Length + 1).StartsWith("OK", StringComparison.OrdinalIgnoreCase));
                }
                else if (!line.StartsWith('*'))
                {
                    Fail($"unexpected IMAP line: \"{Shorten(line)}\"");
                }

                break;
        }
    }

    /// <summary>A one-line status reply: one of <paramref name="ok"/>, the <paramref name="refusal"/>, or not this protocol at all.</summary>
    private void StatusLine(string line, string what, string[] ok, string refusal)
    {
        if (ok.Any(prefix => line.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
        {
            Complete(true);
        }
        else if (line.StartsWith(refusal, StringComparison.OrdinalIgnoreCase))
        {
            Complete(false);
        }
        else
        {
            Fail($"not {what}: \"{Shorten(line)}\"");
        }
    }

    private void Complete(bool ok)
    {
        Result = new StartTlsReply(Math.Max(_code, 0), ok, _lines.ToArray());
        _status = ParseStatus.Complete;
    }

    private void Fail(string error)
    {
        Error = error;
        _status = ParseStatus.Invalid;
    }

    private static string Shorten(string line) => line.Length <= 80 ? line : line[..80] + "...";
}

/// <summary>
/// The plaintext half of STARTTLS: greeting, capability check and the upgrade command for SMTP (RFC 3207),
/// IMAP (RFC 9051 §6.2.1), POP3 (RFC 2595 §4) and FTP (RFC 4217 §4). Stops right after the server agrees;
/// the caller then speaks TLS. Never logs in.
/// </summary>
internal static class StartTls
{
    /// <summary>The EHLO name we announce (RFC 5321 §4.1.1.1 wants a domain; .invalid is reserved, RFC 2606).</summary>
    public const string EhloName = "exposureindex.invalid";

    public static StartTlsProtocol ModeFor(GrabContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Tls)
        {
            return StartTlsProtocol.None;
        }

        return context.Service?.ToLowerInvariant() switch
        {
            "smtp" or "submission" or "smtp-submission" => StartTlsProtocol.Smtp,
            "imap" or "imap2" or "imap4" => StartTlsProtocol.Imap,
            "pop3" or "pop" => StartTlsProtocol.Pop3,
            "ftp" => StartTlsProtocol.Ftp,
            null or "" => context.Target.Port switch
            {
                25 or 587 => StartTlsProtocol.Smtp,
                143 => StartTlsProtocol.Imap,
                110 => StartTlsProtocol.Pop3,
                21 => StartTlsProtocol.Ftp,
                _ => StartTlsProtocol.None,
            },
            _ => StartTlsProtocol.None,
        };
    }

    /// <summary>Runs the plaintext negotiation. Throws <see cref="GrabLimitException"/> naming the step that failed.</summary>
    public static async ValueTask NegotiateAsync(GrabConnection connection, StartTlsProtocol protocol, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        switch (protocol)
        {
            case StartTlsProtocol.None:
                return;
            case StartTlsProtocol.Smtp:
            {
                await ExpectAsync(connection, ReplyStyle.Numeric, "SMTP greeting", 220, cancellationToken).ConfigureAwait(false);
                var ehlo = await CommandAsync(connection, $"EHLO {EhloName}", ReplyStyle.Numeric, "EHLO", 250, cancellationToken).ConfigureAwait(false);
                if (!ehlo.Lines.Any(l => l.Length > 4 && l.AsSpan(4).Trim().StartsWith("STARTTLS", StringComparison.OrdinalIgnoreCase)))
                {
                    throw new GrabLimitException(GrabOutcome.ProtocolError, "the SMTP server does not offer STARTTLS in its EHLO reply");
                }

                await CommandAsync(connection, "STARTTLS", ReplyStyle.Numeric, "STARTTLS", 220, cancellationToken).ConfigureAwait(false);
                return;
            }

            case StartTlsProtocol.Imap:
                await ExpectAsync(connection, ReplyStyle.ImapGreeting, "IMAP greeting", 0, cancellationToken).ConfigureAwait(false);
                await CommandAsync(connection, "a001 STARTTLS", ReplyStyle.ImapTagged, "IMAP STARTTLS", 0, cancellationToken).ConfigureAwait(false);
                return;
            case StartTlsProtocol.Pop3:
                await ExpectAsync(connection, ReplyStyle.Pop3, "POP3 greeting", 0, cancellationToken).ConfigureAwait(false);
                await CommandAsync(connection, "STLS", ReplyStyle.Pop3, "POP3 STLS", 0, cancellationToken).ConfigureAwait(false);
                return;
            case StartTlsProtocol.Ftp:
                await ExpectAsync(connection, ReplyStyle.Numeric, "FTP greeting", 220, cancellationToken).ConfigureAwait(false);
                await CommandAsync(connection, "AUTH TLS", ReplyStyle.Numeric, "FTP AUTH TLS", 234, cancellationToken).ConfigureAwait(false);
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "unknown STARTTLS protocol");
        }
    }

    private static async ValueTask<StartTlsReply> CommandAsync(GrabConnection connection, string command, ReplyStyle style, string step, int expectedCode, CancellationToken cancellationToken)
    {
        await connection.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), cancellationToken).ConfigureAwait(false);
        return await ExpectAsync(connection, style, step, expectedCode, cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask<StartTlsReply> ExpectAsync(GrabConnection connection, ReplyStyle style, string step, int expectedCode, CancellationToken cancellationToken)
    {
        var parser = new StartTlsParser(style);

        // One byte at a time would be slow; whole reads are fine because the server says nothing more until we speak.
        var read = await connection.ReadParsedAsync(parser, int.MaxValue, cancellationToken).ConfigureAwait(false);
        if (read.Status != ParseStatus.Complete)
        {
            throw new GrabLimitException(GrabOutcome.ProtocolError, $"STARTTLS failed at the {step}: {parser.Error}");
        }

        var reply = parser.Result!;
        if (!reply.Ok || (expectedCode != 0 && reply.Code != expectedCode))
        {
            throw new GrabLimitException(GrabOutcome.ProtocolError, $"STARTTLS refused at the {step}: \"{reply.Lines[^1]}\"");
        }

        return reply;
    }
}
