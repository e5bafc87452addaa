using System.Globalization;
using System.Text;
using ExposureIndex.Contracts;

namespace ExposureIndex.Grabbers.Http;

/// <summary>
/// Incremental HTTP/1.x response parser (RFC 9112): status line, header block, then a body framed by
/// Transfer-Encoding: chunked (§7.1), Content-Length (§6.2) or the connection's close (§6.3 rule 8). Interim 1xx
/// responses are skipped. Every part is capped: a line, the header block, the header count and the body; a body
/// longer than the cap completes with <see cref="HttpResult.BodyTruncated"/> so an endless body costs nothing more.
/// Pure: no sockets, no clock.
/// </summary>
internal sealed class HttpParser : IIncrementalParser<HttpResult>
{
    public const int DefaultMaxBody = 64 * 1024;
    public const int MaxLineBytes = 16 * 1024;
    public const int MaxHeaderBytes = 64 * 1024;
    public const int MaxHeaders = 256;
    private const int MaxInterimResponses = 8;

    private readonly int _maxBody;
    private readonly bool _headRequest;
    private readonly List<byte> _line = new(256);
    private readonly MemoryStream _headerBlock = new();
    private readonly MemoryStream _body = new();
    private readonly List<KeyValuePair<string, string>> _headers = [];
    private State _state = State.StatusLine;
    private string _version = string.Empty;
    private string _reason = string.Empty;
    private int _status;
    private long _remaining;
    private int _trailerBytes;
    private int _interim;
    private bool _truncated;
    private bool _incomplete;

    /// <param name="maxBody">Body bytes kept; more completes the parse as truncated.</param>
    /// <param name="headRequest">The request was HEAD: the response has no body whatever its headers say (RFC 9110 §9.3.2).</param>
    public HttpParser(int maxBody = DefaultMaxBody, bool headRequest = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBody);
        _maxBody = maxBody;
        _headRequest = headRequest;
    }

    private enum State
    {
        StatusLine,
        Headers,
        FixedBody,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        UntilClose,
        Done,
        Invalid,
    }

    public HttpResult? Result { get; private set; }

    public string? Error { get; private set; }

    private static ReadOnlySpan<byte> StatusPrefix => "HTTP/"u8;

    public ParseStatus Feed(ReadOnlySpan<byte> chunk)
    {
        var i = 0;
        while (i < chunk.Length && _state is not (State.Done or State.Invalid))
        {
            switch (_state)
            {
                case State.FixedBody:
                case State.ChunkData:
                {
                    var take = (int)Math.Min(_remaining, chunk.Length - i);
                    AppendBody(chunk.Slice(i, take));
                    i += take;
                    _remaining -= take;
                    if (_state != State.Done && _remaining == 0)
                    {
                        if (_state == State.FixedBody)
                        {
                            Finish();
                        }
                        else
                        {
                            _state = State.ChunkDataEnd;
                        }
                    }

                    break;
                }

                case State.UntilClose:
                    AppendBody(chunk[i..]);
                    i = chunk.Length;
                    break;

                default:
                    ConsumeLineByte(chunk[i++]);
                    break;
            }
        }

        return Status;
    }

    public ParseStatus End()
    {
        switch (_state)
        {
            case State.Done:
            case State.Invalid:
                break;
            case State.StatusLine:
                Fail(_line.Count == 0 && _interim == 0 ? "the peer closed without sending an HTTP response" : "the peer closed inside the HTTP status line");
                break;
            case State.Headers:
                // Lenient: keep what arrived; a server that closes before the blank line still told us its headers.
                _incomplete = true;
                Finish();
                break;
            case State.Trailers:
            case State.UntilClose:
                Finish();
                break;
            default:
                _incomplete = true;
                Finish();
                break;
        }

        return Status;
    }

    private ParseStatus Status => _state switch
    {
        State.Done => ParseStatus.Complete,
        State.Invalid => ParseStatus.Invalid,
        _ => ParseStatus.NeedMore,
    };

    private void ConsumeLineByte(byte b)
    {
        var inHead = _state is State.StatusLine or State.Headers;
        if (inHead)
        {
            if (_headerBlock.Length >= MaxHeaderBytes)
            {
                Fail($"the HTTP header block exceeds {MaxHeaderBytes} bytes");
                return;
            }

            _headerBlock.WriteByte(b);
            if (_state == State.StatusLine && _line.Count < StatusPrefix.Length && b != StatusPrefix[_line.Count])
            {
                Fail("not an HTTP response: the first line does not start with \"HTTP/\"");
                return;
            }
        }
        else if (_state == State.Trailers && ++_trailerBytes > MaxHeaderBytes)
        {
            Fail($"the HTTP trailer section exceeds {MaxHeaderBytes} bytes");
            return;
        }

        if (b == (byte)'\n')
        {
            var length = _line.Count > 0 && _line[^1] == (byte)'\r' ? _line.Count - 1 : _line.Count;
            var line = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_line)[..length].ToArray();
            _line.Clear();
            OnLine(line);
            return;
        }

        if (_line.Count >= MaxLineBytes)
        {
            Fail($"an HTTP line exceeds {MaxLineBytes} bytes");
            return;
        }

        _line.Add(b);
    }

    private void OnLine(byte[] line)
    {
        switch (_state)
        {
            case State.StatusLine:
                ParseStatusLine(line);
                break;
            case State.Headers:
                if (line.Length == 0)
                {
                    EndOfHeaders();
                }
                else
                {
                    ParseHeaderLine(line);
                }

                break;
            case State.ChunkSize:
                ParseChunkSize(line);
                break;
            case State.ChunkDataEnd:
                if (line.Length != 0)
                {
                    Fail("chunk data is not followed by CRLF (RFC 9112 §7.1)");
                    return;
                }

                _state = State.ChunkSize;
                break;
            case State.Trailers:
                if (line.Length == 0)
                {
                    Finish();
                }

                break;
        }
    }

    private void ParseStatusLine(byte[] line)
    {
        // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4).
        var text = Encoding.Latin1.GetString(line);
        var firstSpace = text.IndexOf(' ', StringComparison.Ordinal);
        if (firstSpace < 0)
        {
            Fail("malformed HTTP status line: no status code");
            return;
        }

        var rest = text[(firstSpace + 1)..].TrimStart(' ');
        var codeEnd = rest.IndexOf(' ', StringComparison.Ordinal);
        var code = codeEnd < 0 ? rest : rest[..codeEnd];
        if (code.Length != 3 || !code.All(char.IsAsciiDigit))
        {
            Fail($"malformed HTTP status line: status code '{Truncate(code, 16)}' is not three digits");
            return;
        }

        _version = text[..firstSpace];
        _status = int.Parse(code, NumberStyles.None, CultureInfo.InvariantCulture);
        // Latin-1 maps bytes one to one, so text offsets are byte offsets.
        var reasonStart = text.Length - rest.Length + codeEnd + 1;
        _reason = codeEnd < 0 ? string.Empty : BannerText.Decode(line.AsSpan(reasonStart)).Trim();
        _state = State.Headers;
    }

    private void ParseHeaderLine(byte[] line)
    {
        if (line[0] is (byte)' ' or (byte)'\t')
        {
            // obs-fold (RFC 9112 §5.2): a continuation of the previous field value, replaced by a space.
            if (_headers.Count > 0)
            {
                var last = _headers[^1];
                _headers[^1] = new(last.Key, (last.Value + " " + BannerText.Decode(line).Trim()).Trim());
            }

            return;
        }

        var colon = Array.IndexOf(line, (byte)':');
        if (colon <= 0)
        {
            // Not a field line; robust parsing skips it rather than giving up on the whole response.
            return;
        }

        if (_headers.Count >= MaxHeaders)
        {
            Fail($"the HTTP response has more than {MaxHeaders} header fields");
            return;
        }

        var name = Encoding.Latin1.GetString(line, 0, colon).Trim();
        var value = BannerText.Decode(line.AsSpan(colon + 1)).Trim(' ', '\t');
        _headers.Add(new(name, value));
    }

    private void EndOfHeaders()
    {
        if (_status is >= 100 and < 200 && _status != 101)
        {
            // Interim response (RFC 9110 §15.2): the real one follows.
            if (++_interim > MaxInterimResponses)
            {
                Fail($"more than {MaxInterimResponses} interim 1xx responses");
                return;
            }

            _headers.Clear();
            _headerBlock.SetLength(0);
            _state = State.StatusLine;
            return;
        }

        if (_headRequest || _status is 101 or 204 or 304)
        {
            Finish();
            return;
        }

        // RFC 9112 §6.3: Transfer-Encoding with chunked as the final coding wins over Content-Length.
        var transferEncoding = LastHeader("Transfer-Encoding");
        if (transferEncoding is not null)
        {
            var codings = transferEncoding.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            _state = codings.Length > 0 && codings[^1].Equals("chunked", StringComparison.OrdinalIgnoreCase) ? State.ChunkSize : State.UntilClose;
            return;
        }

        var contentLength = LastHeader("Content-Length");
        if (contentLength is not null)
        {
            // A list of identical values is allowed (§6.3 rule 5); anything else is an error.
            var values = contentLength.Split(',', StringSplitOptions.TrimEntries);
            if (values.Any(v => v.Length == 0 || v.Length > 18 || !v.All(char.IsAsciiDigit)) || values.Distinct(StringComparer.Ordinal).Count() != 1)
            {
                Fail($"invalid Content-Length '{Truncate(contentLength, 32)}'");
                return;
            }

            _remaining = long.Parse(values[0], NumberStyles.None, CultureInfo.InvariantCulture);
            if (_remaining == 0)
            {
                Finish();
            }
            else
            {
                _state = State.FixedBody;
            }

            return;
        }

        _state = State.UntilClose;
    }

    private void ParseChunkSize(byte[] line)
    {
        // chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); extensions are ignored.
        var text = Encoding.Latin1.GetString(line);
        var end = text.IndexOfAny([';', ' ', '\t']);
        var hex = (end < 0 ? text : text[..end]).Trim();
        if (hex.Length == 0 || hex.Length > 15 || !hex.All(char.IsAsciiHexDigit))
        {
            Fail($"invalid chunk size '{Truncate(text, 32)}'");
            return;
        }

        _remaining = long.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        _state = _remaining == 0 ? State.Trailers : State.ChunkData;
    }

    private void AppendBody(ReadOnlySpan<byte> data)
    {
        var room = _maxBody - (int)_body.Length;
        if (data.Length > room)
        {
            _body.Write(data[..room]);
            _truncated = true;
            Finish();
            return;
        }

        _body.Write(data);
    }

    private string? LastHeader(string name)
    {
        for (var i = _headers.Count - 1; i >= 0; i--)
        {
            if (string.Equals(_headers[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return _headers[i].Value;
            }
        }

        return null;
    }

    private void Finish()
    {
        Result = new HttpResult(_version, _status, _reason, _headers.ToArray(), _headerBlock.ToArray(), _body.ToArray(), _truncated, _incomplete);
        _state = State.Done;
    }

    private void Fail(string error)
    {
        Error = error;
        _state = State.Invalid;
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "...";
}
