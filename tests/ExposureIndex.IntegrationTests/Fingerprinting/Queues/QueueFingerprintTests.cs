using ExposureIndex.TestCommon.Daemons;
using static ExposureIndex.IntegrationTests.Fingerprinting.FingerprintHarness;

namespace ExposureIndex.IntegrationTests.Fingerprinting.Queues;

/// <summary>Message queues nmap leaves unnamed: beanstalkd, NATS, RabbitMQ (AMQP).</summary>
public sealed class QueueFingerprintTests
{
    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_Beanstalkd_ProductAndExactVersion()
    {
        await using var daemon = await BeanstalkdDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyTcpAsync(daemon.EndPoint), "beanstalkd", daemon);
        Assert.Equal(daemon.Version, fingerprint.Version);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_NatsServer_ProductAndExactVersion()
    {
        await using var daemon = await NatsDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyTcpAsync(daemon.EndPoint), "nats", daemon);
        Assert.Equal(daemon.Version, fingerprint.Version);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_RabbitMq_ProductAndExactVersion()
    {
        await using var daemon = await RabbitMqDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyTcpAsync(daemon.EndPoint), "amqp", daemon);
        Assert.Equal(daemon.Version, fingerprint.Version);
    }
}
