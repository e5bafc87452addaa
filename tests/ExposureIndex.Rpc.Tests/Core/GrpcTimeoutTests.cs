using ExposureIndex.Rpc.Core;

namespace ExposureIndex.Rpc.Tests.Core;

public sealed class GrpcTimeoutTests
{
    [Theory]
    [InlineData("1H", 36_000_000_000L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("3S", 30_000_000L)]
    [InlineData("250m", 2_500_000L)]
    [InlineData("7u", 70L)]
    [InlineData("1000n", 10L)]
    [InlineData("99999999S", 999_999_990_000_000L)]
    [InlineData("00000005S", 50_000_000L)]
    [InlineData("0m", 0L)]
    public void TryParse_ValidValue_ReturnsTimeout(string text, long expectedTicks)
    {
        Assert.True(GrpcTimeout.TryParse(text, out var timeout));
        Assert.Equal(TimeSpan.FromTicks(expectedTicks), timeout);
    }

    [Fact]
    public void TryParse_NanosecondsBelowOneTick_RoundUpToOneTick()
    {
        Assert.True(GrpcTimeout.TryParse("1n", out var timeout));
        Assert.Equal(TimeSpan.FromTicks(1), timeout);
    }

    [Fact]
    public void TryParse_LargestHours_DoesNotOverflow()
    {
        Assert.True(GrpcTimeout.TryParse("99999999H", out var timeout));
        Assert.Equal(TimeSpan.FromHours(99_999_999), timeout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("5")]
    [InlineData("123456789S")] // nine digits: the spec allows at most eight
    [InlineData("-1S")]
    [InlineData("+1S")]
    [InlineData(" 1S")]
    [InlineData("1S ")]
    [InlineData("1s")]
    [InlineData("1h")]
    [InlineData("1x")]
    [InlineData("1.5S")]
    [InlineData("1SS")]
    [InlineData("1e3m")]
    [InlineData("١S")] // a non-ASCII digit
    public void TryParse_InvalidForm_ReturnsFalse(string text)
    {
        Assert.False(GrpcTimeout.TryParse(text, out _));
    }

    [Theory]
    [InlineData(1L, "100n")]
    [InlineData(999_999L, "99999900n")]
    [InlineData(1_000_000L, "100000u")]
    [InlineData(10_000_000L, "1000000u")]
    [InlineData(999_999_990L, "99999999u")]
    [InlineData(1_000_000_000L, "100000m")] // 100,000,000 us would be nine digits
    [InlineData(36_000_000_000_000L, "3600000S")]
    public void Format_Ticks_UsesFinestUnitThatFits(long ticks, string expected)
    {
        Assert.Equal(expected, GrpcTimeout.Format(TimeSpan.FromTicks(ticks)));
    }

    [Fact]
    public void Format_FractionOfUnit_RoundsUpSoPeerNeverSeesShorterDeadline()
    {
        // 100,000,000.5 us needs nine digits; in ms it is 100,000.0005, which rounds up to 100001m.
        Assert.Equal("100001m", GrpcTimeout.Format(TimeSpan.FromTicks(1_000_000_005)));
        Assert.Equal("10000001u", GrpcTimeout.Format(TimeSpan.FromTicks(100_000_005)));
    }

    [Fact]
    public void Format_HugeTimeout_ClampsToEightDigitHours()
    {
        Assert.Equal("99999999H", GrpcTimeout.Format(TimeSpan.MaxValue));
    }

    [Fact]
    public void Format_NonPositive_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GrpcTimeout.Format(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => GrpcTimeout.Format(TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public void FormatThenParse_ManyTimeouts_NeverShortensAndStaysWithinEightDigits()
    {
        var random = new Random(42);
        for (var i = 0; i < 10_000; i++)
        {
            var ticks = (long)Math.Pow(10, random.NextDouble() * 17) + 1;
            var timeout = TimeSpan.FromTicks(ticks);
            var text = GrpcTimeout.Format(timeout);
            Assert.InRange(text.Length, 2, 9);
            Assert.True(GrpcTimeout.TryParse(text, out var parsed), text);
            Assert.True(parsed >= timeout, $"{text} parsed to {parsed}, shorter than {timeout}");
        }
    }
}
