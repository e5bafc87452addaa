using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Publishing;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Crawler.Tests.Publishing;

public sealed class DiskSpoolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("exposure-spool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static ServiceRecord Record(int i) => new()
    {
        Ip = $"8.8.{i / 250 % 250}.{(i % 250) + 1}",
        Port = (uint)(1 + (i % 65000)),
        Transport = Transport.Tcp,
        Timestamp = Timestamp.FromDateTimeOffset(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero).AddSeconds(i)),
        Data = ByteString.CopyFromUtf8($"banner {i}\r\n"),
        Source = RecordSource.ActiveScan,
        Scanner = "exposure-crawler/test",
        Outcome = GrabOutcome.Success,
    };

    private static List<ServiceRecord> Batch(int first, int count) => [.. Enumerable.Range(first, count).Select(Record)];

    [Fact]
    public void AppendReadAcknowledge_InOrder()
    {
        using var spool = DiskSpool.Open(_dir);
        spool.Append(Batch(0, 3));
        spool.Append(Batch(3, 2));
        spool.Append(Batch(5, 4));
        Assert.Equal((3, 9L), (spool.PendingBatches, spool.PendingRecords));

        var first = spool.ReadPending(2);
        Assert.Equal([3, 2], first.Select(b => b.Records.Count));
        Assert.Equal(Batch(0, 5), first.SelectMany(b => b.Records));
        Assert.Equal([0UL, 1UL], first.Select(b => b.Sequence));
        spool.Acknowledge(first[^1].End);
        Assert.Equal((1, 4L), (spool.PendingBatches, spool.PendingRecords));

        var rest = spool.ReadPending(10);
        Assert.Equal(Batch(5, 4), Assert.Single(rest).Records);
        spool.Acknowledge(rest[0].End);
        Assert.False(spool.HasPending);
        Assert.Empty(spool.ReadPending(10));
    }

    [Fact]
    public void Open_AfterRestart_RecoversPendingInOrder()
    {
        using (var spool = DiskSpool.Open(_dir))
        {
            for (var b = 0; b < 5; b++)
            {
                spool.Append(Batch(b * 10, 10));
            }

            spool.Acknowledge(spool.ReadPending(2)[^1].End);
        }

        using var reopened = DiskSpool.Open(_dir);
        Assert.Equal((3, 30L), (reopened.PendingBatches, reopened.PendingRecords));
        Assert.Equal(Batch(20, 30), reopened.ReadPending(10).SelectMany(b => b.Records));
        // Sequences continue after the recovered ones.
        reopened.Append(Batch(50, 1));
        Assert.Equal(5UL, reopened.ReadPending(10)[^1].Sequence);
    }

    [Fact]
    public void Open_TornTail_IsCutOffAndEarlierFramesKept()
    {
        string segment;
        using (var spool = DiskSpool.Open(_dir))
        {
            spool.Append(Batch(0, 4));
            spool.Append(Batch(4, 4));
            segment = spool.SegmentPath(0);
        }

        // A crash in the middle of the third append: half a frame at the end.
        var full = File.ReadAllBytes(segment);
        using (var stream = new FileStream(segment, FileMode.Append))
        {
            stream.Write(full.AsSpan(0, 30));
        }

        using var reopened = DiskSpool.Open(_dir);
        Assert.Equal(30, reopened.TruncatedBytes);
        Assert.Equal(Batch(0, 8), reopened.ReadPending(10).SelectMany(b => b.Records));
        Assert.Equal(full.Length, new FileInfo(segment).Length);
    }

    [Fact]
    public void Open_CorruptFrameInAnEarlierSegment_IsReportedWithFileAndOffset()
    {
        string first;
        using (var spool = DiskSpool.Open(_dir, maxSegmentBytes: 600))
        {
            for (var b = 0; b < 6; b++)
            {
                spool.Append(Batch(b * 3, 3));
            }

            first = spool.SegmentPath(0);
            Assert.True(File.Exists(spool.SegmentPath(1)), "segments should have rolled over");
        }

        var bytes = File.ReadAllBytes(first);
        bytes[DiskSpool.HeaderBytes + 5] ^= 0xFF;
        File.WriteAllBytes(first, bytes);
        var e = Assert.Throws<SpoolCorruptException>(() => DiskSpool.Open(_dir, maxSegmentBytes: 600));
        Assert.Contains(first, e.Message, StringComparison.Ordinal);
        Assert.Contains("offset 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Acknowledge_Everything_DeletesSegmentsAndStartsAFreshOne()
    {
        using var spool = DiskSpool.Open(_dir, maxSegmentBytes: 600);
        for (var b = 0; b < 6; b++)
        {
            spool.Append(Batch(b * 3, 3));
        }

        Assert.True(Directory.GetFiles(_dir, "segment-*").Length >= 2);
        spool.Acknowledge(spool.ReadPending(100)[^1].End);
        Assert.Empty(Directory.GetFiles(_dir, "segment-*"));
        spool.Append(Batch(100, 1));
        Assert.Single(Directory.GetFiles(_dir, "segment-*"));
        Assert.Equal(Batch(100, 1), spool.ReadPending(5).Single().Records);
    }

    [Fact]
    public void Open_SpoolInUse_IsRefusedUntilReleased()
    {
        using (DiskSpool.Open(_dir))
        {
            var e = Assert.Throws<IOException>(() => DiskSpool.Open(_dir));
            Assert.Contains("in use by another process", e.Message, StringComparison.Ordinal);
        }

        using var again = DiskSpool.Open(_dir);
        Assert.False(again.HasPending);
    }

    [Fact]
    public void Open_CorruptCursor_IsReported()
    {
        using (var spool = DiskSpool.Open(_dir))
        {
            spool.Append(Batch(0, 2));
            spool.Append(Batch(2, 2));
            spool.Acknowledge(spool.ReadPending(1)[0].End);
        }

        var cursor = Path.Combine(_dir, "spool.cursor");
        var bytes = File.ReadAllBytes(cursor);
        bytes[3] ^= 1;
        File.WriteAllBytes(cursor, bytes);
        var e = Assert.Throws<SpoolCorruptException>(() => DiskSpool.Open(_dir));
        Assert.Contains("spool.cursor", e.Message, StringComparison.Ordinal);
    }
}
