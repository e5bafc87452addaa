using ExposureIndex.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Indexer.Tests.Support;

internal static class Records
{
    public static readonly DateTime T0 = new(2026, 5, 1, 0, 0, 0, DateTimeKind.Utc);

    public static ServiceRecord Valid(string ip = "198.51.100.7", uint port = 80, string data = "HTTP/1.1 200 OK\r\n\r\n", DateTime? at = null) => new()
    {
        Ip = ip,
        Port = port,
        Transport = Transport.Tcp,
        Timestamp = Timestamp.FromDateTime(at ?? T0),
        Data = ByteString.CopyFromUtf8(data),
        Source = RecordSource.ActiveScan,
        Scanner = "test",
    };
}
