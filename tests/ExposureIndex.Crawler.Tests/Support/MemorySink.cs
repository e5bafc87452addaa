using System.Collections.Concurrent;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Publishing;

namespace ExposureIndex.Crawler.Tests.Support;

/// <summary>Keeps records in memory; durable as soon as written. Optionally fails on the n-th write.</summary>
internal sealed class MemorySink(int failOnWrite = 0) : IRecordSink
{
    private int _writes;

    public ConcurrentQueue<ServiceRecord> Records { get; } = new();

    public List<int> BatchSizes { get; } = [];

    public bool Completed { get; private set; }

    public bool Disposed { get; private set; }

    public string Name => "memory";

    public SinkCounts Counts => new(Records.Count, Records.Count, 0);

    public ValueTask WriteAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken = default)
    {
        if (Completed)
        {
            throw new InvalidOperationException("write after complete");
        }

        if (++_writes == failOnWrite)
        {
            throw new IOException("disk full (test)");
        }

        lock (BatchSizes)
        {
            BatchSizes.Add(records.Count);
        }

        foreach (var record in records)
        {
            Records.Enqueue(record);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<SinkCounts> FlushAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Counts);

    public ValueTask<SinkResult> CompleteAsync(CancellationToken cancellationToken = default)
    {
        Completed = true;
        return ValueTask.FromResult(SinkResult.Durable(Records.Count));
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}
