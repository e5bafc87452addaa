using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ExposureIndex.TestCommon;

/// <summary>Readiness is polled, never slept (GUIDE.md §5). Every wait is bounded.</summary>
public static class Poll
{
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, TimeSpan? interval = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var step = interval ?? TimeSpan.FromMilliseconds(50);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await condition().ConfigureAwait(false))
            {
                return true;
            }

            await Task.Delay(step, cancellationToken).ConfigureAwait(false);
        }

        return await condition().ConfigureAwait(false);
    }

    public static Task<bool> UntilAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
        => UntilAsync(() => Task.FromResult(condition()), timeout, cancellationToken: cancellationToken);

    /// <summary>Waits until a TCP connect to the endpoint succeeds (loopback only).</summary>
    public static Task<bool> TcpPortOpenAsync(IPAddress address, int port, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"Tests may only touch loopback, not {address}.", nameof(address));
        }

        return UntilAsync(async () =>
        {
            using var client = new TcpClient(address.AddressFamily);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                await client.ConnectAsync(address, port, cts.Token).ConfigureAwait(false);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }, timeout, cancellationToken: cancellationToken);
    }
}
