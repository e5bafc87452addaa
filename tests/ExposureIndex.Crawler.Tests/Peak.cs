namespace ExposureIndex.Crawler.Tests;

/// <summary>The highest value a concurrently changing count reached, kept without a lock.</summary>
internal static class Peak
{
    /// <summary>Raises <paramref name="peak"/> to <paramref name="value"/> if it is lower (atomic against other raisers).</summary>
    public static void Raise(ref int peak, int value)
    {
        for (var seen = Volatile.Read(ref peak); seen < value; seen = Volatile.Read(ref peak))
        {
            if (Interlocked.CompareExchange(ref peak, value, seen) == seen)
            {
                return;
            }
        }
    }
}
