using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Query;
using ExposureIndex.Storage.Fields;

namespace ExposureIndex.Storage.Embedded.Index;

/// <summary>
/// The embedded store's query side: one row per current service, every filterable field as a column
/// (dictionary-encoded keywords, integers, booleans, per-row lists), an inverted word index over the banner
/// data, and the host map. Rows are append-only; a newer observation of a service appends a row and
/// tombstones the old one, so columns and posting lists never need in-place rewrites.
/// Not thread-safe: <see cref="EmbeddedStore"/> guards it with a reader/writer lock.
/// </summary>
internal sealed class ServiceIndex
{
    private readonly Dictionary<string, DictColumn> _keywords = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MultiDictColumn> _multis = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IntColumn> _integers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BoolColumn> _booleans = new(StringComparer.Ordinal);
    // The columns with their extractors, one array per kind: the ingest loop makes no type tests.
    private readonly (Func<ServiceRecord, string?> Read, DictColumn Column)[] _keywordAppenders;
    private readonly (Action<ServiceRecord, List<string>> Read, MultiDictColumn Column)[] _multiAppenders;
    private readonly (Func<ServiceRecord, int?> Read, IntColumn Column)[] _integerAppenders;
    private readonly (Func<ServiceRecord, bool> Read, BoolColumn Column)[] _booleanAppenders;
    private readonly IpColumn _ip = new();
    private readonly LongColumn _timestamp = new();
    private readonly LongColumn _firstSeen = new();
    private readonly LongColumn _lastSeen = new();
    private readonly LongColumn _position = new();
    private readonly LongColumn _observations = new();
    private readonly RowFlags _deleted = new();
    private readonly PostingIndex _words = new();
    // Host map without per-host objects: the newest row of each address, and a chain to that address's older rows.
    private readonly Dictionary<UInt128, HostRows> _hosts = new();
    private readonly ChunkedArray<int> _previousRowOfHost = new();
    private readonly List<ulong> _wordScratch = new(256);
    private char[]? _charScratch;
    private readonly List<string> _manyScratch = new(16);

    public ServiceIndex()
    {
        List<(Func<ServiceRecord, string?>, DictColumn)> keywords = [];
        List<(Action<ServiceRecord, List<string>>, MultiDictColumn)> multis = [];
        List<(Func<ServiceRecord, int?>, IntColumn)> integers = [];
        List<(Func<ServiceRecord, bool>, BoolColumn)> booleans = [];
        foreach (var field in DocumentFields.All)
        {
            switch (field.Kind)
            {
                case StoreFieldKind.Keyword or StoreFieldKind.Text:
                    keywords.Add((field.Text!, _keywords[field.Name] = new DictColumn()));
                    break;
                case StoreFieldKind.MultiKeyword:
                    multis.Add((field.Many!, _multis[field.Name] = new MultiDictColumn()));
                    break;
                case StoreFieldKind.Integer:
                    integers.Add((field.Integer!, _integers[field.Name] = new IntColumn()));
                    break;
                case StoreFieldKind.Boolean:
                    booleans.Add((field.Boolean!, _booleans[field.Name] = new BoolColumn()));
                    break;
            }
        }

        _keywordAppenders = [.. keywords];
        _multiAppenders = [.. multis];
        _integerAppenders = [.. integers];
        _booleanAppenders = [.. booleans];
    }

    /// <summary>Rows ever added (live and tombstoned).</summary>
    public int RowCount { get; private set; }

    public int LiveRows { get; private set; }

    public int Hosts => _hosts.Count;

    public long WordPostings => _words.PostingCount;

    public int DistinctWords => _words.DistinctTokens;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Add(ServiceRecord record, UInt128 ip, long position, long firstSeenMicros, long lastSeenMicros, uint observations)
    {
        var row = RowCount;
        foreach (var (read, column) in _keywordAppenders)
        {
            column.Append(read(record));
        }

        foreach (var (read, column) in _multiAppenders)
        {
            _manyScratch.Clear();
            read(record, _manyScratch);
            column.Append(_manyScratch);
        }

        foreach (var (read, column) in _integerAppenders)
        {
            column.Append(read(record));
        }

        foreach (var (read, column) in _booleanAppenders)
        {
            column.Append(read(record));
        }

        _ip.Append(ip);
        _timestamp.Append(ToMicros(record.Timestamp));
        _firstSeen.Append(firstSeenMicros);
        _lastSeen.Append(lastSeenMicros);
        _position.Append(position);
        _observations.Append(observations);

        _wordScratch.Clear();
        Tokenizer.WordHashes(Tokenizer.DecodeBanner(record.Data.Span, ref _charScratch), _wordScratch);
        _words.Add(row, _wordScratch);

        ref var host = ref CollectionsMarshal.GetValueRefOrAddDefault(_hosts, ip, out var known);
        _previousRowOfHost.Add(known ? host.Newest : -1);
        host.Newest = row;
        host.Live = known ? host.Live + 1 : 1;

        RowCount++;
        LiveRows++;
        _deleted.EnsureCapacity(RowCount);
        return row;
    }

    public void Delete(int row)
    {
        if (_deleted[row])
        {
            return;
        }

        _deleted.Set(row);
        LiveRows--;
        var ip = _ip[row];
        ref var host = ref CollectionsMarshal.GetValueRefOrNullRef(_hosts, ip);
        if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref host) && --host.Live == 0)
        {
            _hosts.Remove(ip);
        }
    }

    /// <summary>An older observation joined the history: widen first_seen and count it.</summary>
    public void Touch(int row, long firstSeenMicros, uint observations)
    {
        _firstSeen[row] = Math.Min(_firstSeen[row], firstSeenMicros);
        _observations[row] = observations;
    }

    public bool IsLive(int row) => row >= 0 && row < RowCount && !_deleted[row];

    public long PositionOf(int row) => _position[row];

    public (long FirstSeen, long LastSeen, uint Observations) SeenOf(int row) => (_firstSeen[row], _lastSeen[row], (uint)_observations[row]);

    /// <summary>The live rows of one address, newest first (the chain also passes tombstoned rows, which are skipped).</summary>
    public IReadOnlyList<int> RowsOf(IPAddress address)
    {
        if (!_hosts.TryGetValue(IpNumbers.ToUInt128(address), out var host))
        {
            return [];
        }

        var rows = new List<int>(Math.Min(host.Live, 64));
        for (var row = host.Newest; row >= 0 && rows.Count < host.Live; row = _previousRowOfHost[row])
        {
            if (!_deleted[row])
            {
                rows.Add(row);
            }
        }

        return rows;
    }

    /// <summary>The rows matching <paramref name="query"/> among the first <paramref name="rowLimit"/> rows, tombstones removed.</summary>
    public Bitset Evaluate(QueryNode query, int rowLimit, Func<int, IReadOnlyList<ulong>, bool> bannerHasPhrase)
    {
        var result = EvaluateNode(query, rowLimit, bannerHasPhrase);
        _deleted.RemoveFrom(result);
        return result;
    }

    public IReadOnlyDictionary<string, IReadOnlyList<FacetBucket>> Facets(Bitset rows, IReadOnlyList<FacetRequest> facets)
    {
        var result = new Dictionary<string, IReadOnlyList<FacetBucket>>(StringComparer.Ordinal);
        foreach (var facet in facets)
        {
            var name = facet.Field.Name;
            IEnumerable<FacetBucket> buckets;
            if (_keywords.TryGetValue(name, out var dict))
            {
                buckets = TopIds(dict.Count(rows), dict.Values);
            }
            else if (_multis.TryGetValue(name, out var multi))
            {
                buckets = TopIds(multi.Count(rows), multi.Values);
            }
            else if (_integers.TryGetValue(name, out var integer))
            {
                buckets = integer.Count(rows).Select(kv => new FacetBucket(kv.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), kv.Value));
            }
            else if (_booleans.TryGetValue(name, out var boolean))
            {
                var (t, f) = boolean.Count(rows);
                buckets = [new FacetBucket("true", t), new FacetBucket("false", f)];
            }
            else
            {
                throw new StoreQueryException($"the embedded store cannot facet on '{name}'");
            }

            result[name] = buckets.Where(b => b.Count > 0)
                .OrderByDescending(b => b.Count)
                .ThenBy(b => b.Value, StringComparer.Ordinal)
                .Take(facet.Size)
                .ToList();
        }

        return result;
    }

    public static long ToMicros(Google.Protobuf.WellKnownTypes.Timestamp? timestamp)
        => timestamp is null ? 0 : (timestamp.Seconds * 1_000_000) + (timestamp.Nanos / 1000);

    public static DateTime FromMicros(long micros) => DateTime.UnixEpoch.AddTicks(micros * 10);

    private static IEnumerable<FacetBucket> TopIds(int[] counts, ValueDictionary values)
    {
        // Merge casings of one value ("nginx"/"Nginx") under the most common spelling.
        var merged = new Dictionary<string, (string Display, long Count, long Best)>(StringComparer.OrdinalIgnoreCase);
        for (var id = 1; id < counts.Length; id++)
        {
            if (counts[id] == 0)
            {
                continue;
            }

            var value = values[id];
            ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(merged, value, out var exists);
            if (!exists)
            {
                entry = (value, counts[id], counts[id]);
            }
            else
            {
                entry = counts[id] > entry.Best ? (value, entry.Count + counts[id], counts[id]) : (entry.Display, entry.Count + counts[id], entry.Best);
            }
        }

        return merged.Values.Select(e => new FacetBucket(e.Display, e.Count));
    }

    private Bitset EvaluateNode(QueryNode node, int rows, Func<int, IReadOnlyList<ulong>, bool> bannerHasPhrase)
    {
        switch (node)
        {
            case MatchAllNode:
                return Bitset.All(rows);
            case AndNode and:
            {
                Bitset? acc = null;
                foreach (var term in and.Terms.OrderBy(Cost))
                {
                    var next = EvaluateNode(term, rows, bannerHasPhrase);
                    if (acc is null)
                    {
                        acc = next;
                    }
                    else
                    {
                        acc.And(next);
                    }
                }

                return acc ?? Bitset.All(rows);
            }

            case OrNode or:
            {
                var acc = new Bitset(rows);
                foreach (var term in or.Terms)
                {
                    acc.Or(EvaluateNode(term, rows, bannerHasPhrase));
                }

                return acc;
            }

            case NotNode not:
            {
                var inner = EvaluateNode(not.Term, rows, bannerHasPhrase);
                inner.Not();
                return inner;
            }

            case FilterNode filter:
                return EvaluateFilter(filter, rows);
            case TextNode text:
                return EvaluateText(text, rows, bannerHasPhrase);
            default:
                throw new StoreQueryException($"the embedded store does not know the query node {node.GetType().Name}");
        }
    }

    /// <summary>Cheap, selective terms first (words, exact keywords) so later terms can be skipped in future.</summary>
    private static int Cost(QueryNode node) => node switch
    {
        TextNode => 0,
        FilterNode { Value: KeywordValue or IntegerValue } => 1,
        FilterNode => 2,
        _ => 3,
    };

    private Bitset EvaluateFilter(FilterNode node, int rows)
    {
        var result = new Bitset(rows);
        var definition = node.Filter;
        var name = definition.Name;
        if (!DocumentFields.TryGet(name, out var field))
        {
            throw new StoreQueryException($"the embedded store has no field for filter '{name}'");
        }

        switch (field.Kind)
        {
            case StoreFieldKind.Address:
            {
                var network = (NetworkValue)node.Value;
                var (first, last) = IpNumbers.Range(network.Network, network.PrefixLength);
                _ip.MatchRange(first, last, result);
                return result;
            }

            case StoreFieldKind.Time:
            {
                var at = ((DateValue)node.Value).Value.ToUnixTimeMilliseconds() * 1000;
                if (definition.Comparison == FilterComparison.LessThan)
                {
                    _timestamp.MatchRange(long.MinValue, at - 1, result);
                }
                else
                {
                    _timestamp.MatchRange(at + 1, long.MaxValue, result);
                }

                return result;
            }

            case StoreFieldKind.Integer:
            {
                var value = ((IntegerValue)node.Value).Value;
                if (value is >= int.MinValue and <= int.MaxValue)
                {
                    _integers[name].MatchEquals((int)value, result);
                }

                return result;
            }

            case StoreFieldKind.Boolean:
                _booleans[name].Match(((BooleanValue)node.Value).Value, result);
                return result;

            case StoreFieldKind.Keyword or StoreFieldKind.Text:
            {
                var column = _keywords[name];
                column.Match(MatchValues(definition, node.Value, column.Values), result);
                return result;
            }

            case StoreFieldKind.MultiKeyword:
            {
                var column = _multis[name];
                column.Match(MatchValues(definition, node.Value, column.Values), result);
                return result;
            }

            default:
                throw new StoreQueryException($"the embedded store cannot evaluate filter '{name}'");
        }
    }

    /// <summary>Which distinct values of a field satisfy a filter value: the filter semantics live here, once.</summary>
    private static bool[] MatchValues(FilterDefinition definition, FilterValue value, ValueDictionary values)
    {
        var comparison = definition.CaseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        switch (value)
        {
            case KeywordValue { Value: var v } when definition.SuffixMatch:
                return values.Match(s => s.Equals(v, comparison) || (s.Length > v.Length && s.EndsWith(v, comparison) && s[s.Length - v.Length - 1] == '.'));
            case KeywordValue { Value: var v } when definition.PrefixMatch:
                return values.Match(s => s.StartsWith(v, comparison));
            case KeywordValue { Value: var v } when !definition.CaseSensitive:
            {
                var mask = new bool[values.Count];
                foreach (var id in values.FindIgnoreCase(v))
                {
                    mask[id] = true;
                }

                return mask;
            }

            case KeywordValue { Value: var v }:
            {
                var mask = new bool[values.Count];
                if (values.TryFindExact(v, out var id))
                {
                    mask[id] = true;
                }

                return mask;
            }

            case WildcardValue wildcard:
                return values.Match(wildcard.Pattern.IsMatch);
            case PhraseValue phrase:
            {
                var words = Tokenizer.WordHashes(phrase.Text);
                return values.Match(s => Tokenizer.ContainsPhrase(s, words));
            }

            default:
                throw new StoreQueryException($"filter '{definition.Name}' cannot take a {value.GetType().Name}");
        }
    }

    private Bitset EvaluateText(TextNode node, int rows, Func<int, IReadOnlyList<ulong>, bool> bannerHasPhrase)
    {
        var words = Tokenizer.WordHashes(node.Text);
        var result = new Bitset(rows);
        if (words.Count == 0)
        {
            // The query language rejects wordless free text; a hand-built node gets a clear error, not a full scan.
            throw new StoreQueryException($"free text '{node.Text}' has no word to search for");
        }

        // Keys to intersect: the word itself, or every adjacent pair of a phrase (rarest first keeps sets small).
        var keys = words.Count == 1 ? words : Enumerable.Range(1, words.Count - 1).Select(i => Tokenizer.Bigram(words[i - 1], words[i])).Distinct().ToList();
        var ordered = keys.Distinct().OrderBy(_words.Frequency).ToList();
        _words.Collect(ordered[0], result);
        foreach (var key in ordered.Skip(1))
        {
            var next = new Bitset(rows);
            _words.Collect(key, next);
            result.And(next);
        }

        if (words.Count <= 2)
        {
            // One word, or a pair answered exactly by its bigram posting.
            return result;
        }

        // Three or more words: consecutive pairs all occur; check they form one run, in order, in the banner.
        _deleted.RemoveFrom(result);
        var verified = new Bitset(rows);
        foreach (var row in result.Ascending())
        {
            if (bannerHasPhrase(row, words))
            {
                verified.Set(row);
            }
        }

        return verified;
    }
}

/// <summary>A host in the index: its newest row and how many of its rows are live.</summary>
internal struct HostRows
{
    public int Newest;
    public int Live;
}

/// <summary>IP addresses as unsigned 128-bit numbers; IPv4 maps into ::ffff:0:0/96 (RFC 4291 §2.5.5.2).</summary>
internal static class IpNumbers
{
    private static readonly UInt128 V4Mapped = (UInt128)0xFFFF << 32;

    public static UInt128 ToUInt128(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes, out _);
            return V4Mapped | System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
        }

        address.TryWriteBytes(bytes, out _);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    /// <summary>
    /// The number of an address in text form. Stored records carry canonical text (the Indexer canonicalizes it),
    /// so the usual dotted quad is read without allocating; anything else goes through <see cref="IPAddress.Parse(string)"/>.
    /// </summary>
    public static UInt128 Parse(string ip)
        => IpText.TryParseDottedQuad(ip, out var v4) ? V4Mapped | v4 : ToUInt128(IPAddress.Parse(ip));

    public static (UInt128 First, UInt128 Last) Range(IPAddress network, int prefixLength)
    {
        var bits = network.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? prefixLength + 96 : prefixLength;
        var first = ToUInt128(network);
        var hostMask = bits >= 128 ? UInt128.Zero : UInt128.MaxValue >> bits;
        first &= ~hostMask;
        return (first, first | hostMask);
    }
}
