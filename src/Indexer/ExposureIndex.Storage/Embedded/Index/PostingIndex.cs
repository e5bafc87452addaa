using System.Runtime.InteropServices;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>
/// An inverted index from word to the rows containing it. Rows only ever grow, so each posting list is an
/// append-only sorted array. A word seen once keeps its row inline (most banner words are rare: session
/// ids, ETags), which keeps the memory per unique word small.
/// </summary>
internal sealed class PostingIndex
{
    private readonly Dictionary<ulong, Posting> _postings = new();

    public int DistinctTokens => _postings.Count;

    public long PostingCount { get; private set; }

    /// <summary>Adds <paramref name="row"/> (greater than every row added before) for each distinct token.</summary>
    public void Add(int row, List<string> tokens)
    {
        foreach (var token in tokens)
        {
            ref var posting = ref CollectionsMarshal.GetValueRefOrAddDefault(_postings, Tokenizer.Hash(token), out var exists);
            if (!exists)
            {
                posting = new Posting { First = row, Count = 1 };
                PostingCount++;
                continue;
            }

            if (posting.Last == row)
            {
                continue; // the same word twice in one document
            }

            posting.Append(row);
            PostingCount++;
        }
    }

    /// <summary>Sets the rows containing <paramref name="token"/> in <paramref name="result"/>.</summary>
    public void Collect(string token, Bitset result)
    {
        if (!_postings.TryGetValue(Tokenizer.Hash(token), out var posting))
        {
            return;
        }

        if (posting.Count == 1)
        {
            if (posting.First < result.Length)
            {
                result.Set(posting.First);
            }

            return;
        }

        var rows = posting.Rest!;
        for (var i = 0; i < posting.Count; i++)
        {
            var row = rows[i];
            if (row >= result.Length)
            {
                break;
            }

            result.Set(row);
        }
    }

    public int Frequency(string token) => _postings.TryGetValue(Tokenizer.Hash(token), out var p) ? p.Count : 0;

    public void Clear()
    {
        _postings.Clear();
        PostingCount = 0;
    }

    private struct Posting
    {
        public int First;
        public int Count;
        public int[]? Rest;

        public readonly int Last => Count == 1 ? First : Rest![Count - 1];

        public void Append(int row)
        {
            if (Rest is null)
            {
                Rest = new int[4];
                Rest[0] = First;
            }
            else if (Count == Rest.Length)
            {
                Array.Resize(ref Rest, Rest.Length * 2);
            }

            Rest[Count++] = row;
        }
    }
}
