using ExposureIndex.Storage;
using ExposureIndex.Storage.Embedded.Log;

namespace ExposureIndex.Storage.Tests.Embedded;

public sealed class SegmentLogReadTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exposure-segmentlog-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void ReadIntoScratch_AgreesWithRead_ForSmallLargeAndLastFrames()
    {
        var sizes = new[] { 0, 1, 100, 4_088, 4_089, 5_000, 300, 70_000, 12, 9_000 };
        var positions = new List<long>();
        using (var log = SegmentLog.Open(_directory, (_, _) => { }, segmentBytes: 40_000))
        {
            foreach (var size in sizes)
            {
                positions.Add(log.Append(Enumerable.Range(0, size).Select(i => (byte)(i * 7 + size)).ToArray()));
            }

            log.Commit();
            byte[]? scratch = null;
            // Twice over, in an order that makes the scratch serve frames both smaller and larger than itself.
            foreach (var i in Enumerable.Range(0, sizes.Length).Concat(Enumerable.Range(0, sizes.Length).Reverse()))
            {
                Assert.Equal(log.Read(positions[i]), log.Read(positions[i], ref scratch).ToArray());
            }
        }
    }

    [Fact]
    public void ReadIntoScratch_ChecksTheCrc()
    {
        using var log = SegmentLog.Open(_directory, (_, _) => { });
        var position = log.Append(new byte[200]);
        log.Append(new byte[50]);
        log.Commit();

        // Damage the first frame's payload on disk underneath the open log (as a failing disk would).
        var (segment, offset) = SegmentLog.SplitPosition(position);
        var file = Directory.GetFiles(_directory, "seg-*.log").Single();
        using (var handle = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            RandomAccess.Write(handle, new byte[] { 0xFF }, offset + SegmentLog.FrameHeaderSize + 10);
        }

        byte[]? scratch = new byte[8192];
        var error = Assert.Throws<StoreCorruptException>(() => log.Read(position, ref scratch).ToArray());
        Assert.Contains($"segment {segment} fails its CRC", error.Message, StringComparison.Ordinal);
    }
}
