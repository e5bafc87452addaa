using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace ExposureIndex.Bench;

/// <summary>
/// Diagnostic (BENCH_ALLOCATIONS=1): samples the runtime's GCAllocationTick events (one per ~100 KB allocated)
/// and prints the types that account for most allocated bytes.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new();

    public static AllocationSampler? StartIfRequested()
        => Environment.GetEnvironmentVariable("BENCH_ALLOCATIONS") == "1" ? new AllocationSampler() : null;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) == true && eventData.Payload is { } payload)
        {
            var index = eventData.PayloadNames!.IndexOf("TypeName");
            var amount = eventData.PayloadNames.IndexOf("AllocationAmount64");
            var type = index >= 0 ? payload[index] as string ?? "?" : "?";
            var bytes = amount >= 0 ? Convert.ToInt64(payload[amount], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
            _bytes.AddOrUpdate(type, bytes, (_, total) => total + bytes);
        }
    }

    public void Print(long records)
    {
        var total = _bytes.Values.Sum();
        foreach (var (type, bytes) in _bytes.OrderByDescending(p => p.Value).Take(15))
        {
            Console.WriteLine($"  alloc   {bytes / (double)records,8:N0} B/record  {bytes / (double)total,4:P0}  {type}");
        }
    }
}
