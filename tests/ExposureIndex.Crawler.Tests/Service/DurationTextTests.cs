using ExposureIndex.Crawler.Service;

namespace ExposureIndex.Crawler.Tests.Service;

public sealed class DurationTextTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("1s250ms", 1250)]
    [InlineData("1m30s", 90_000)]
    [InlineData("2M", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1d", 86_400_000)]
    public void TryParse_KnowsEveryUnit(string text, long milliseconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration, out var error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("", "positive duration")]
    [InlineData("90", "is not a duration like")]
    [InlineData("ms", "is not a duration like")]
    [InlineData("3w", "unknown unit 'w'")]
    [InlineData("0s", "positive duration")]
    [InlineData("367d", "at most 366 days")]
    [InlineData("9999999999s", "is not a duration like")]
    public void TryParse_BadText_SaysWhy(string text, string reason)
    {
        Assert.False(DurationText.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("5", true)]
    [InlineData("2.5", true)]
    [InlineData(".5", true)]
    [InlineData("5s", false)]
    [InlineData("-1", false)]
    [InlineData("1e3", false)]
    [InlineData("Infinity", false)]
    [InlineData("NaN", false)]
    [InlineData("", false)]
    public void TryParseBareNumber_OnlyPlainDecimals(string text, bool bare)
        => Assert.Equal(bare, DurationText.TryParseBareNumber(text, out _));
}
