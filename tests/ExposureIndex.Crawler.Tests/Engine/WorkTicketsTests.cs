using ExposureIndex.Crawler.Engine;

namespace ExposureIndex.Crawler.Tests.Engine;

public sealed class WorkTicketsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Done_OutOfOrder_LowWaterMovesOnlyOverAnUnbrokenRun()
    {
        var tickets = new WorkTickets();
        var issued = Enumerable.Range(0, 5).Select(_ => tickets.Issue()).ToList();
        Assert.Equal([0L, 1, 2, 3, 4], issued);

        tickets.Done(1);
        tickets.Done(3);
        Assert.Equal(0, tickets.LowWater);
        tickets.Done(0);
        Assert.Equal(2, tickets.LowWater);
        tickets.Done(2);
        Assert.Equal(4, tickets.LowWater);
    }

    [Fact]
    public void Done_Twice_Throws()
    {
        var tickets = new WorkTickets();
        var ticket = tickets.Issue();
        tickets.Done(ticket);
        Assert.Throws<InvalidOperationException>(() => tickets.Done(ticket));
        Assert.Throws<InvalidOperationException>(() => tickets.Done(7));
    }

    [Fact]
    public async Task WaitAsync_CompletesOnlyWhenEveryEarlierTicketIsDone()
    {
        var tickets = new WorkTickets();
        var first = tickets.Issue();
        var second = tickets.Issue();
        var wait = tickets.WaitAsync(tickets.Issued, Ct);
        var later = tickets.Issue();

        tickets.Done(second);
        Assert.False(wait.IsCompleted);
        tickets.Done(first);
        await wait.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        // A ticket issued after the wait began is not waited for.
        Assert.Equal(2, tickets.LowWater);
        tickets.Done(later);
    }

    [Fact]
    public async Task Lose_FailsPendingAndLaterWaits()
    {
        var tickets = new WorkTickets();
        var kept = tickets.Issue();
        var lost = tickets.Issue();
        var pending = tickets.WaitAsync(tickets.Issued, Ct);

        tickets.Lose(lost, "aborted (test)");
        var e = await Assert.ThrowsAsync<WorkLostException>(() => pending.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Contains("aborted (test)", e.Message, StringComparison.Ordinal);
        tickets.Done(kept);
        await Assert.ThrowsAsync<WorkLostException>(() => tickets.WaitAsync(1, Ct));
        Assert.Equal(1, tickets.Lost);
    }
}
