using System.Net.Sockets;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Grabbers;

/// <summary>
/// The frame of every grab: the total deadline from <see cref="GrabLimits.TotalDeadline"/> on the injected clock,
/// and network trouble mapped to a <see cref="GrabOutcome"/> with the partial record kept. Caller cancellation
/// propagates (cancellation is not an error).
/// </summary>
/// <remarks>
/// Give the deadline token to connects (and to reads that should simply stop at the deadline); a connection opened
/// with it also ends its own reads at the deadline with an I/O timeout, whatever token the read was given.
/// </remarks>
public static class GrabGuard
{
    /// <param name="context">The grab's target, caps and clock.</param>
    /// <param name="what">The grab, for messages ("the MQTT grab").</param>
    /// <param name="record">The fragment being filled; returned, partially filled, with any failure.</param>
    /// <param name="grab">The grab itself, given the deadline token.</param>
    /// <param name="cancellationToken">The caller's cancellation.</param>
    public static async ValueTask<GrabResult> RunAsync(GrabContext context, string what, ServiceRecord record, Func<CancellationToken, ValueTask<GrabResult>> grab, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(grab);
        using var total = new CancellationTokenSource(context.Limits.TotalDeadline, context.Time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, total.Token);
        try
        {
            return await grab(deadline.Token).ConfigureAwait(false);
        }
        catch (GrabLimitException ex)
        {
            return GrabResult.Failed(ex.Outcome, ex.Message, record);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return GrabResult.Failed(GrabOutcome.IoTimeout, $"{what}'s total deadline of {context.Limits.TotalDeadline.TotalSeconds:0.#} s passed", record);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            return GrabResult.Failed(GrabOutcome.Closed, $"{what}: the connection broke: {ex.Message}", record);
        }
    }
}
