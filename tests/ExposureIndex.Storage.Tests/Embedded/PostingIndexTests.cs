using ExposureIndex.Storage.Embedded.Index;

namespace ExposureIndex.Storage.Tests.Embedded;

public sealed class PostingIndexTests
{
    [Theory]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(12)]
    public void Add_AcrossManyArenaChunks_AgreesWithOracle(int chunkShift)
    {
        // Small chunks so that blocks end exactly on a chunk boundary many times (a 1M-int chunk did so after
        // about 1.6M banners in bench/store and the next allocation then indexed a chunk that did not exist).
        var index = new PostingIndex(chunkShift);
        var oracle = new Dictionary<ulong, List<int>>();
        var random = new Random(chunkShift);
        var words = new List<ulong>();
        const int rows = 20_000;
        for (var row = 0; row < rows; row++)
        {
            words.Clear();
            var count = random.Next(1, 12);
            for (var i = 0; i < count; i++)
            {
                // A skewed vocabulary: some words in most rows (long chains of 256-blocks), many rare ones, and now
                // and then key 0 (the map's empty-slot marker, kept aside).
                var pick = random.Next(100);
                words.Add(pick == 0 ? 0UL : pick < 25 ? (ulong)random.Next(5) + 1 : (ulong)random.Next(3_000) + 100);
            }

            index.Add(row, words);
            for (var i = 0; i < words.Count; i++)
            {
                Record(oracle, words[i], row);
                if (i > 0)
                {
                    Record(oracle, Tokenizer.Bigram(words[i - 1], words[i]), row);
                }
            }
        }

        Assert.True(index.ArenaBytes > 64L << chunkShift, "the workload must span many chunks");
        foreach (var (key, expected) in oracle)
        {
            var result = new Bitset(rows);
            index.Collect(key, result);
            Assert.Equal(expected.Count, index.Frequency(key));
            Assert.Equal(expected, result.Descending().Reverse().ToList());
        }
    }

    [Fact]
    public void Constructor_RejectsChunksSmallerThanTheLargestBlock()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new PostingIndex(7));

    [Fact]
    public void Add_RowsBeyondTheQueryLength_AreLeftOut()
    {
        // Queries evaluate over the rows that existed when they began; lists are walked newest block first.
        var index = new PostingIndex();
        for (var row = 0; row < 1_000; row++)
        {
            index.Add(row, [42UL]);
        }

        var result = new Bitset(300);
        index.Collect(42UL, result);
        Assert.Equal(Enumerable.Range(0, 300), result.Descending().Reverse());
        Assert.Equal(1_000, index.Frequency(42UL));
        Assert.Equal(0, index.Frequency(43UL));
    }

    private static void Record(Dictionary<ulong, List<int>> oracle, ulong key, int row)
    {
        if (!oracle.TryGetValue(key, out var list))
        {
            oracle[key] = list = [];
        }

        if (list.Count == 0 || list[^1] != row)
        {
            list.Add(row);
        }
    }
}
