using System.Net;
using System.Net.Http.Headers;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Tests.Conformance;
using Google.Protobuf;

namespace ExposureIndex.Rpc.Tests.EndToEnd;

/// <summary>
/// Our server against a plain HttpClient speaking HTTP/2 (h2c prior knowledge), with frames built by
/// hand: checks exactly what goes on the wire in headers, body and trailers.
/// </summary>
public sealed class RawFrameTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private TestServer _server = null!;
    private HttpClient _http = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = Bound };
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Unary_HandBuiltFrame_ExactHeadersBodyAndTrailers()
    {
        using var response = await SendAsync("/conformance.v1.Echo/Unary", Frame(new EchoRequest { Text = "raw" }));
        var body = await response.Content.ReadAsByteArrayAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Version(2, 0), response.Version);
        Assert.Equal("application/grpc", Header(response.Content.Headers, "content-type"));
        Assert.Equal("identity", Header(response.Headers, "grpc-accept-encoding"));
        Assert.Null(Header(response.Headers, "grpc-status"));
        Assert.Equal(Frame(new EchoReply { Text = "raw" }), body);
        Assert.Equal("0", Header(response.TrailingHeaders, "grpc-status"));
        Assert.Null(Header(response.TrailingHeaders, "grpc-message"));
    }

    [Fact]
    public async Task Unary_HandlerError_TrailersOnlyWithPercentEncodedMessage()
    {
        using var response = await SendAsync("/conformance.v1.Echo/Unary", Frame(new EchoRequest { FailCode = 5, FailMessage = "ü 100%" }));
        var body = await response.Content.ReadAsByteArrayAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc", Header(response.Content.Headers, "content-type"));
        Assert.Equal("5", Header(response.Headers, "grpc-status"));
        Assert.Equal("%C3%BC 100%25", Header(response.Headers, "grpc-message"));
        Assert.Equal("requested", Header(response.Headers, "x-fail-reason"));
        Assert.Empty(body);
        Assert.Empty(response.TrailingHeaders);
    }

    [Fact]
    public async Task ServerStreaming_ErrorAfterMessages_StatusInTrailersNotHeaders()
    {
        using var response = await SendAsync("/conformance.v1.Echo/Expand", Frame(new EchoRequest { Repeat = 5, FailAfter = 2, FailCode = 10, FailMessage = "halt" }));
        var body = await response.Content.ReadAsByteArrayAsync(Ct);

        Assert.Null(Header(response.Headers, "grpc-status"));
        Assert.Equal(Concat(Frame(new EchoReply { Index = 0 }), Frame(new EchoReply { Index = 1 })), body);
        Assert.Equal("10", Header(response.TrailingHeaders, "grpc-status"));
        Assert.Equal("halt", Header(response.TrailingHeaders, "grpc-message"));
        Assert.Equal("requested", Header(response.TrailingHeaders, "x-fail-reason"));
    }

    [Fact]
    public async Task ServerStreaming_ManyMessages_BodyIsExactConcatenationOfFrames()
    {
        using var response = await SendAsync("/conformance.v1.Echo/Expand", Frame(new EchoRequest { Text = "t", Repeat = 1000 }));
        var body = await response.Content.ReadAsByteArrayAsync(Ct);

        Assert.Equal(Concat(Enumerable.Range(0, 1000).Select(i => Frame(new EchoReply { Text = "t", Index = i })).ToArray()), body);
        Assert.Equal("0", Header(response.TrailingHeaders, "grpc-status"));
    }

    [Fact]
    public async Task UnknownMethod_TrailersOnlyUnimplemented()
    {
        using var response = await SendAsync("/conformance.v1.Echo/Nope", Frame(new EchoRequest()));
        var body = await response.Content.ReadAsByteArrayAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc", Header(response.Content.Headers, "content-type"));
        Assert.Equal("12", Header(response.Headers, "grpc-status"));
        Assert.Contains("Nope", Header(response.Headers, "grpc-message"), StringComparison.Ordinal);
        Assert.Empty(body);
        Assert.Empty(response.TrailingHeaders);
    }

    [Fact]
    public async Task PathCaseMismatch_Unimplemented()
    {
        // PROTOCOL-HTTP2: the path is case-sensitive (ASP.NET Core routing is not).
        using var response = await SendAsync("/conformance.v1.echo/unary", Frame(new EchoRequest()));

        Assert.Equal("12", Header(response.Headers, "grpc-status"));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    [InlineData("application/grpc-web")]
    [InlineData(null)]
    public async Task WrongContentType_415(string? contentType)
    {
        using var response = await SendAsync("/conformance.v1.Echo/Unary", Frame(new EchoRequest()), contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("13", Header(response.Headers, "grpc-status"));
    }

    [Fact]
    public async Task ContentTypeWithProtoSuffix_Accepted()
    {
        using var response = await SendAsync("/conformance.v1.Echo/Unary", Frame(new EchoRequest { Text = "p" }), "application/grpc+proto");
        await response.Content.ReadAsByteArrayAsync(Ct);

        Assert.Equal("0", Header(response.TrailingHeaders, "grpc-status"));
    }

    [Fact]
    public async Task CompressedFrame_WithoutEncodingHeader_InternalNamingIdentity()
    {
        var frame = Frame(new EchoRequest { Text = "z" });
        frame[0] = 1;
        using var response = await SendAsync("/conformance.v1.Echo/Unary", frame);

        Assert.Equal("13", Header(response.Headers, "grpc-status"));
        Assert.Contains("identity", Decode(Header(response.Headers, "grpc-message")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GzipEncodingHeader_UnimplementedAdvertisingIdentity()
    {
        var frame = Frame(new EchoRequest { Text = "z" });
        frame[0] = 1;
        using var response = await SendAsync("/conformance.v1.Echo/Unary", frame, extraHeaders: [("grpc-encoding", "gzip")]);

        Assert.Equal("12", Header(response.Headers, "grpc-status"));
        Assert.Equal("identity", Header(response.Headers, "grpc-accept-encoding"));
        Assert.Contains("gzip", Decode(Header(response.Headers, "grpc-message")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdentityEncodingHeader_Accepted()
    {
        using var response = await SendAsync("/conformance.v1.Echo/Unary", Frame(new EchoRequest()), extraHeaders: [("grpc-encoding", "identity")]);
        await response.Content.ReadAsByteArrayAsync(Ct);

        Assert.Equal("0", Header(response.TrailingHeaders, "grpc-status"));
    }

    [Theory]
    [InlineData("1x")]
    [InlineData("123456789S")]
    [InlineData("soon")]
    public async Task InvalidTimeoutHeader_InternalNamingTheValue(string value)
    {
        using var response = await SendAsync("/conformance.v1.Echo/Unary", Frame(new EchoRequest()), extraHeaders: [("grpc-timeout", value)]);

        Assert.Equal("13", Header(response.Headers, "grpc-status"));
        Assert.Contains(value, Decode(Header(response.Headers, "grpc-message")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TimeoutHeader_HandlerHangs_ServerEndsCallWithDeadlineExceeded()
    {
        // No deadline on this client: only the server's enforcement of grpc-timeout can end the call.
        using var response = await SendAsync("/conformance.v1.Echo/Hang", Frame(new EchoRequest { Text = "server deadline" }), extraHeaders: [("grpc-timeout", "200m")]);
        await response.Content.ReadAsByteArrayAsync(Ct);

        Assert.Equal("4", Header(response.Headers, "grpc-status") ?? Header(response.TrailingHeaders, "grpc-status"));
        Assert.Equal("server deadline", await _server.Observations.HangCancelled.Task.WaitAsync(Bound, Ct));
    }

    [Fact]
    public async Task MessageSplitIntoOneByteDataFrames_Reassembled()
    {
        var frames = Concat(Frame(new EchoRequest { Text = "first" }), Frame(new EchoRequest { Text = "second", Payload = ByteString.CopyFrom(new byte[300]) }));
        using var request = Request("/conformance.v1.Echo/Chat", new TricklingContent(frames));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        var body = await response.Content.ReadAsByteArrayAsync(Ct);

        Assert.Equal(Concat(Frame(new EchoReply { Text = "first", Index = 0 }), Frame(new EchoReply { Text = "second", Index = 1, Payload = ByteString.CopyFrom(new byte[300]) })), body);
        Assert.Equal("0", Header(response.TrailingHeaders, "grpc-status"));
    }

    [Fact]
    public async Task TruncatedRequestMessage_InternalNamingTheShortfall()
    {
        var frame = Frame(new EchoRequest { Text = "truncate me please" });
        using var response = await SendAsync("/conformance.v1.Echo/Unary", frame[..^4]);

        Assert.Equal("13", Header(response.Headers, "grpc-status"));
        Assert.Contains("truncated", Decode(Header(response.Headers, "grpc-message")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnaryWithTwoMessages_Internal()
    {
        using var response = await SendAsync("/conformance.v1.Echo/Unary", Concat(Frame(new EchoRequest()), Frame(new EchoRequest())));

        Assert.Equal("13", Header(response.Headers, "grpc-status"));
    }

    [Fact]
    public async Task UnaryWithoutMessage_Internal()
    {
        using var response = await SendAsync("/conformance.v1.Echo/Unary", []);

        Assert.Equal("13", Header(response.Headers, "grpc-status"));
    }

    [Fact]
    public async Task OversizedPrefix_RejectedWhileRequestStreamIsStillOpen()
    {
        // Only a prefix announcing 64 MiB is sent and the request stays open: the server must answer
        // RESOURCE_EXHAUSTED from the prefix alone, without waiting for (or buffering) the payload.
        var prefix = new byte[5];
        MessageFraming.WriteHeader(prefix, 64 * 1024 * 1024);
        var content = new HoldOpenContent(prefix);
        using var request = Request("/conformance.v1.Echo/Chat", content);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);

        Assert.Equal("8", Header(response.Headers, "grpc-status"));
        Assert.Contains("16777216", Decode(Header(response.Headers, "grpc-message")), StringComparison.Ordinal);
        content.Release();
    }

    [Fact]
    public async Task CustomMetadata_BinaryAndAscii_ReachHandlerAndComeBack()
    {
        using var response = await SendAsync("/conformance.v1.Echo/Unary", Frame(new EchoRequest()), extraHeaders: [("x-echo", "v1"), ("x-blob-bin", "AAH+/w")]);
        await response.Content.ReadAsByteArrayAsync(Ct);

        Assert.Equal("v1", Header(response.Headers, "x-echo-header"));
        Assert.Equal("v1", Header(response.TrailingHeaders, "x-echo-trailer"));
        Assert.Equal("AAH+/w", Header(response.TrailingHeaders, "x-blob-bin"));
        Assert.Equal("0", Header(response.TrailingHeaders, "grpc-status"));
    }

    private async Task<HttpResponseMessage> SendAsync(string path, byte[] body, string? contentType = "application/grpc", (string Name, string Value)[]? extraHeaders = null)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        using var request = Request(path, content);
        foreach (var (name, value) in extraHeaders ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await _http.SendAsync(request, Ct).WaitAsync(Bound, Ct);
    }

    private HttpRequestMessage Request(string path, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(_server.Address), path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (content.Headers.ContentType is null && content is not ByteArrayContent)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
        }

        return request;
    }

    private static string? Header(HttpHeaders headers, string name) =>
        headers.NonValidated.TryGetValues(name, out var values) ? values.ToString() : null;

    private static string Decode(string? value) => StatusMessageEncoding.Decode(value ?? string.Empty);

    private static byte[] Frame(IMessage message) => MessageFraming.Frame(message.ToByteArray());

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Sends its bytes one at a time, flushing each: every byte is its own DATA frame.</summary>
    private sealed class TricklingContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                await stream.WriteAsync(bytes.AsMemory(i, 1));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    /// <summary>Sends its bytes, then keeps the request stream open until released.</summary>
    private sealed class HoldOpenContent(byte[] bytes) : HttpContent
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(bytes);
            await stream.FlushAsync();
            await _release.Task.WaitAsync(Bound);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
