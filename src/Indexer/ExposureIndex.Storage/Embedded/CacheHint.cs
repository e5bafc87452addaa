using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace ExposureIndex.Storage.Embedded;

/// <summary>
/// Asks the CPU to start loading a cache line before it is needed. The store's large tables (word index, posting
/// arena, writer maps) miss the cache on nearly every lookup; starting several loads at once lets them overlap.
/// </summary>
internal static class CacheHint
{
    /// <summary>
    /// Starts loading the line that holds <paramref name="location"/>. Only a hint: it never faults and changes
    /// nothing, so a stale address (an array the GC has just moved) merely wastes the hint. No-op without SSE.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Prefetch<T>(ref T location)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref location));
        }
    }
}
