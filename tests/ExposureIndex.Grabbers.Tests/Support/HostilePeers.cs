using System.Text;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Grabbers.Tests.Support;

/// <summary>
/// The hostile peers every grabber must survive with bounded time and memory (issue 3 item 4): a tarpit, binary
/// garbage, a line that never ends, an endless multi-line reply, a slow drip, a flood. Each returns the grab's
/// result (and, for floods, how many bytes the server got to write).
/// </summary>
internal static class HostilePeers
{
    public const int TenMegabytes = 10 * 1024 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Accepts, reads what the client says, and never answers.</summary>
    public static async Task<GrabResult> TarpitAsync(IGrabber grabber)
    {
        await using var server = TestServer.Start(async (c, ct) =>
        {
            while ((await c.ReadAsync(ct)).Length > 0)
            {
            }
        });
        return await grabber.GrabAsync(server.Context(), Ct);
    }

    /// <summary>Sends seeded random bytes (up to 10 MB) until the client leaves.</summary>
    public static Task<(GrabResult Result, long Written)> GarbageAsync(IGrabber grabber)
    {
        var random = new Random(42);
        return FloodAsync(grabber, [], () =>
        {
            var chunk = new byte[16 * 1024];
            random.NextBytes(chunk);
            return chunk;
        });
    }

    /// <summary>Sends <paramref name="prefix"/>, then 10 MB of 'A' without a line end.</summary>
    public static Task<(GrabResult Result, long Written)> EndlessLineAsync(IGrabber grabber, string prefix)
        => FloodAsync(grabber, Encoding.ASCII.GetBytes(prefix), () => Enumerable.Repeat((byte)'A', 16 * 1024).ToArray());

    /// <summary>Sends <paramref name="first"/>, then <paramref name="line"/> over and over, 10 MB in all.</summary>
    public static Task<(GrabResult Result, long Written)> EndlessLinesAsync(IGrabber grabber, string first, string line)
    {
        var block = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(line, Math.Max(1, 16 * 1024 / line.Length))));
        return FloodAsync(grabber, Encoding.ASCII.GetBytes(first), () => block);
    }

    /// <summary>Answers the client's first bytes with <paramref name="first"/>, then an endless stream of <paramref name="block"/> (10 MB at most).</summary>
    public static Task<(GrabResult Result, long Written)> FloodAfterRequestAsync(IGrabber grabber, byte[] first, byte[] block)
        => FloodAsync(grabber, first, () => block, afterRequest: true);

    /// <summary>Sends <paramref name="message"/> one byte at a time, a byte every <paramref name="interval"/>, forever.</summary>
    public static Task<GrabResult> SlowDripAsync(IGrabber grabber, string message, TimeSpan interval)
        => DripAsync(grabber, [], Encoding.ASCII.GetBytes(message), interval, afterRequest: false);

    private static readonly GrabLimits DripLimits = GrabContexts.Short with { ReadTimeout = TimeSpan.FromSeconds(10) };

    /// <summary>Sends <paramref name="first"/> at once (after the client's first bytes when <paramref name="afterRequest"/>), then <paramref name="drip"/> one byte per interval, repeating, until the client leaves.</summary>
    public static async Task<GrabResult> DripAsync(IGrabber grabber, byte[] first, byte[] drip, TimeSpan interval, bool afterRequest)
    {
        await using var server = TestServer.Start(async (c, ct) =>
        {
            if (afterRequest)
            {
                await c.ReadAsync(ct);
            }

            await c.WriteAsync(first, ct);
            for (var i = 0; i < 100_000; i++)
            {
                await c.WriteAsync(drip.AsMemory(i % drip.Length, 1), ct);
                await Task.Delay(interval, ct);
            }
        });

        // Only the total deadline may end a drip: with the short idle timeout, one late byte on a loaded machine
        // would end it as a read timeout instead.
        return await grabber.GrabAsync(server.Context(DripLimits), Ct);
    }

    /// <summary>
    /// Asserts a flood ended the grab with <paramref name="outcome"/> before the server could write its 10 MB: the
    /// grabber gave up instead of reading it all. Returns the result for further checks.
    /// </summary>
    public static GrabResult AssertStoppedEarly(this (GrabResult Result, long Written) flood, GrabOutcome outcome = GrabOutcome.ProtocolError)
    {
        Assert.Equal(outcome, flood.Result.Outcome);
        Assert.True(flood.Written < TenMegabytes, $"the server wrote {flood.Written} bytes: the grabber should have stopped early");
        return flood.Result;
    }

    private static async Task<(GrabResult Result, long Written)> FloodAsync(IGrabber grabber, byte[] first, Func<byte[]> next, bool afterRequest = false)
    {
        await using var server = TestServer.Start(async (c, ct) =>
        {
            if (afterRequest)
            {
                await c.ReadAsync(ct);
            }

            await c.WriteAsync(first, ct);
            long sent = first.Length;
            while (sent < TenMegabytes)
            {
                var chunk = next();
                await c.WriteAsync(chunk, ct);
                sent += chunk.Length;
            }
        });
        var result = await grabber.GrabAsync(server.Context(), Ct);
        return (result, server.BytesWritten);
    }
}
