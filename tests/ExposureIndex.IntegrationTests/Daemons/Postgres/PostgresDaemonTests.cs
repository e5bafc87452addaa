using System.Buffers.Binary;
using System.Text;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Daemons.Postgres;

public sealed class PostgresDaemonTests
{
    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_Startup_ReportsServerVersionOfTheBinary()
    {
        await using var postgres = await PostgresDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var parameters = await StartupAsync(postgres);

        // The server_version parameter reads "15.18 (Debian 15.18-0+deb12u1)".
        Assert.StartsWith(postgres.Version + " ", parameters["server_version"], StringComparison.Ordinal);
        Assert.Contains(postgres.PackageVersion, parameters["server_version"], StringComparison.Ordinal);
        Assert.Equal("PostgreSQL", postgres.Product);
        await DaemonAssert.BindsOnlyItsAddressAsync(postgres);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task DisposeAsync_AfterStart_PidGoneAndPortClosed()
    {
        var postgres = await PostgresDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        await DaemonAssert.StopsCleanlyAsync(postgres);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_TwoAtOnce_BothAcceptStartups()
    {
        var started = await Task.WhenAll(PostgresDaemon.StartAsync(cancellationToken: DaemonAssert.Ct), PostgresDaemon.StartAsync(cancellationToken: DaemonAssert.Ct));
        try
        {
            foreach (var postgres in started)
            {
                Assert.StartsWith(postgres.Version, (await StartupAsync(postgres))["server_version"], StringComparison.Ordinal);
            }
        }
        finally
        {
            foreach (var postgres in started)
            {
                await DaemonAssert.StopsCleanlyAsync(postgres);
            }
        }
    }

    /// <summary>
    /// Protocol 3.0 startup (PostgreSQL docs, "Message Flow: Start-up"): Int32 length, Int32 196608, then
    /// name/value pairs; reads until ReadyForQuery ('Z') and returns the ParameterStatus ('S') pairs.
    /// </summary>
    private static async Task<Dictionary<string, string>> StartupAsync(PostgresDaemon postgres)
    {
        var parameters = Encoding.ASCII.GetBytes($"user\0{PostgresDaemon.SuperUser}\0database\0postgres\0\0");
        var message = new byte[8 + parameters.Length];
        BinaryPrimitives.WriteInt32BigEndian(message, message.Length);
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4), 196608);
        parameters.CopyTo(message, 8);

        var reply = await WireProbe.ExchangeAsync(postgres.EndPoint, message, b => FindMessage(b.Span, (byte)'Z') >= 0 || FindMessage(b.Span, (byte)'E') >= 0, DaemonAssert.NetTimeout, cancellationToken: DaemonAssert.Ct);

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 5 <= reply.Length;)
        {
            var type = reply[i];
            var length = BinaryPrimitives.ReadInt32BigEndian(reply.AsSpan(i + 1));
            var payload = reply.AsSpan(i + 5, length - 4);
            Assert.NotEqual((byte)'E', type);
            if (type == (byte)'S')
            {
                var parts = Encoding.UTF8.GetString(payload).Split('\0');
                result[parts[0]] = parts[1];
            }

            i += 1 + length;
        }

        return result;
    }

    private static int FindMessage(ReadOnlySpan<byte> data, byte wanted)
    {
        for (var i = 0; i + 5 <= data.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(data[(i + 1)..]);
            if (i + 1 + length > data.Length)
            {
                return -1;
            }

            if (data[i] == wanted)
            {
                return i;
            }

            i += 1 + length;
        }

        return -1;
    }
}
