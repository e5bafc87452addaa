using ExposureIndex.Contracts.V1;
using ExposureIndex.Storage.Embedded.Log;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Storage.Tests.Embedded;

public sealed class LogFramesTests
{
    public static TheoryData<int> DataSizes => new() { 0, 1, 100, 127, 128, 300, 16_383, 16_384, 70_000, 2_100_000 };

    [Theory]
    [MemberData(nameof(DataSizes))]
    public void WriteObservation_IsByteForByteTheGeneratedSerialization(int dataSize)
    {
        var record = Record(dataSize);
        record.Version = "1.26.3";
        record.Http.Title = "Welcome \u00e9";
        record.Http.Headers.Add("server", "nginx");
        record.Http.Headers.Add("x-a", "b");
        var rest = new LoggedObservation { RecordId = "abc", Previous = 1UL << 41, Change = ChangeKind.Changed, Replaced = 99 };
        var expected = new LogEntry { Observation = new LoggedObservation(rest) { Record = record } }.ToByteArray();

        // A small writer grows; written twice, the second frame must not carry anything of the first.
        var writer = new FrameWriter(initialSize: 16);
        LogFrames.WriteObservation(new LoggedObservation { RecordId = new string('x', 500) }, Record(dataSize + 1_000), writer);
        var frame = LogFrames.WriteObservation(rest, record, writer);

        Assert.Equal(expected, frame.ToArray());
        Assert.Null(rest.Record);
    }

    [Theory]
    [MemberData(nameof(DataSizes))]
    public void TryFindBanner_AgreesWithTheFullParse(int dataSize)
    {
        var record = Record(dataSize);
        var frame = LogFrames.WriteObservation(new LoggedObservation { RecordId = "id", Previous = 7 }, record, new FrameWriter());

        Assert.True(LogFrames.TryFindBanner(frame, out var data));
        Assert.Equal(LogEntry.Parser.ParseFrom(frame).Observation.Record.Data.ToByteArray(), data.ToArray());
    }

    [Fact]
    public void TryFindBanner_IgnoresNestedDataFields()
    {
        // Other bytes fields deeper down (http.favicon.data) are not the banner: only the record's own field 5 is.
        var record = Record(10);
        record.Http.Favicon = new HttpFavicon { Data = ByteString.CopyFromUtf8("not the banner"), Hash = 5 };
        var frame = new LogEntry { Observation = new LoggedObservation { Record = record } }.ToByteArray();
        Assert.True(LogFrames.TryFindBanner(frame, out var data));
        Assert.Equal(record.Data.ToByteArray(), data.ToArray());
    }

    [Fact]
    public void TryFindBanner_RefusesOtherFramesAndDamage()
    {
        var change = new LogEntry { Change = new ChangeEvent { Id = 1, Key = "1.2.3.4:80/tcp" } }.ToByteArray();
        Assert.False(LogFrames.TryFindBanner(change, out _));

        var frame = new LogEntry { Observation = new LoggedObservation { Record = Record(300) } }.ToByteArray();
        for (var cut = 1; cut < frame.Length; cut += 37)
        {
            Assert.False(LogFrames.TryFindBanner(frame.AsSpan(0, cut), out _));
        }

        Assert.False(LogFrames.TryFindBanner([0x0B, 0x00], out _)); // a group tag
        Assert.False(LogFrames.TryFindBanner([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], out _));
    }

    private static ServiceRecord Record(int dataSize)
    {
        var record = new ServiceRecord
        {
            Ip = "192.0.2.7",
            Port = 443,
            Transport = Transport.Tcp,
            Timestamp = Timestamp.FromDateTime(new DateTime(2026, 11, 21, 10, 0, 0, DateTimeKind.Utc)),
            Data = ByteString.CopyFrom(Enumerable.Range(0, dataSize).Select(i => (byte)('a' + (i % 26))).ToArray()),
            Product = "nginx",
            Http = new HttpSection { Status = 200, Title = "t" },
        };
        record.Cpe23.Add("cpe:2.3:a:f5:nginx:1.26.3:*:*:*:*:*:*:*");
        return record;
    }

    [Fact]
    public void WriteObservation_WithTheRecordAlreadySet_IsRefused()
    {
        var rest = new LoggedObservation { Record = new ServiceRecord() };
        Assert.Throws<ArgumentException>(() => LogFrames.WriteObservation(rest, new ServiceRecord(), new FrameWriter()));
    }
}
