using System.Globalization;
using System.Text;
using ExposureIndex.Query;

namespace ExposureIndex.Query.Tests;

/// <summary>
/// Seeded random inputs: the parser must only ever throw <see cref="QueryException"/>, its errors must point
/// inside the text, and every accepted query must survive a canonical round trip. The timeouts guard against
/// hangs; they are not performance assertions.
/// </summary>
public sealed class QueryFuzzTests
{
    private static readonly string[] Fragments =
    [
        "port", "prot", "PORT", "country", "ip", "net", "hash", "product", "org", "http.title", "http.status", "before",
        "after", "has_ssl", "ssl.cert.serial", "ssh.fingerprint", "ssl.cert.fingerprint", "cpe", "hostname", "asn",
        "tag", "transport", "ssl.version", "source", "city",
        ":", ":", ":", "\"", "\"", "\"", "\\", "\\", ",", ",", "-", "-", " ", " ", " ", "  ", "\t", "\r\n", "*", "?",
        "22", "-123", "0x1f", "1.2.3.4", "/24", "/", "::1", "::ffff:", "2024-01-01", "31/12/2024", "T10:00Z", "true",
        "US", "a", "é", "東京", "😀", "\uD800", "\uDC00", "\u0007", "\u0085", "\u00A0", "\u3000", "cpe:2.3:a", "cpe:/a:",
        "{or:", "}", "(", ")", "%", "SHA256:", "AS", "tcp", "99999999999999999999", "0",
    ];

    /// <summary>Inputs that once broke an invariant; kept as regression fixtures.</summary>
    public static TheoryData<string> Regressions => new()
    {
        "port:22,\"",
        "\"\\\"",
        "-\"\"",
        "a:\"",
        "ip:::ffff:",
        "ip:/",
        "ssl.cert.serial:0x",
        "ssl.cert.serial::",
        "ssh.fingerprint::",
        "product:\\",
        "product:\"\\*\"*",
        "hostname:\"*.\"",
        "city:\" \\, \"",
        "cpe:cpe:/",
        "after:0001-01-01T00:00:00+01:00",
        "before:9999-12-31T23:59:59-01:00",
    };

    [Theory]
    [MemberData(nameof(Regressions))]
    public void Parse_RegressionInput_KeepsInvariants(string input)
    {
        CheckOne(input);
    }

    [Fact(Timeout = 300_000)]
    public async Task Parse_RandomFragmentStrings_OnlyThrowQueryException()
    {
        await Task.Run(() => Run(seed: 1, count: 20_000, NextFragmentString), TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = 300_000)]
    public async Task Parse_RandomCodeUnits_OnlyThrowQueryException()
    {
        await Task.Run(() => Run(seed: 2, count: 10_000, NextCodeUnitString), TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = 300_000)]
    public async Task Parse_MutatedValidQueries_OnlyThrowQueryException()
    {
        var valid = QueryParserValidTests.Canonical.Select(row => row.Data.Item1).Where(q => q.Length > 0).ToArray();
        await Task.Run(() => Run(seed: 3, count: 20_000, random => Mutate(random, valid[random.Next(valid.Length)])), TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = 300_000)]
    public async Task Parse_LongRandomInputs_StayBounded()
    {
        await Task.Run(() => Run(seed: 4, count: 600, NextLongString), TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = 300_000)]
    public async Task FacetParse_RandomInputs_OnlyThrowQueryException()
    {
        await Task.Run(
            () =>
            {
                var random = new Random(5);
                for (var i = 0; i < 20_000; i++)
                {
                    var input = NextFragmentString(random);
                    try
                    {
                        var facets = FacetParser.Parse(input);
                        Assert.InRange(facets.Count, 0, FacetParser.MaxFacets);
                        Assert.Equal(facets, FacetParser.Parse(FacetParser.Format(facets)));
                    }
                    catch (QueryException exception)
                    {
                        CheckError(input, exception.Error);
                    }
                }
            },
            TestContext.Current.CancellationToken);
    }

    private static void Run(int seed, int count, Func<Random, string> next, bool requireBothOutcomes = true)
    {
        var random = new Random(seed);
        var accepted = 0;
        for (var i = 0; i < count; i++)
        {
            TestContext.Current.CancellationToken.ThrowIfCancellationRequested();
            accepted += CheckOne(next(random)) ? 1 : 0;
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}: accepted {accepted} of {count} inputs");

        // Both outcomes must be exercised, or the generator is not testing anything.
        if (requireBothOutcomes)
        {
            Assert.InRange(accepted, 1, count - 1);
        }
    }

    private static bool CheckOne(string input)
    {
        ParsedQuery parsed;
        try
        {
            parsed = QueryParser.Parse(input);
        }
        catch (QueryException exception)
        {
            CheckError(input, exception.Error);
            Assert.False(QueryParser.TryParse(input, out _, out var error));
            Assert.Equal(exception.Error, error);
            return false;
        }
        catch (Exception exception)
        {
            Assert.Fail($"input {Describe(input)} threw {exception.GetType().Name}: {exception.Message}");
            throw;
        }

        var canonical = parsed.Canonical;
        var reparsed = QueryParser.Parse(canonical);
        Assert.True(parsed.Root.Equals(reparsed.Root), $"round trip changed {Describe(input)} -> {Describe(canonical)}");
        Assert.Equal(canonical, reparsed.Canonical);
        Assert.InRange(CountNodes(parsed.Root), 1, 1 + (QueryLimits.MaxTerms * (QueryLimits.MaxListValues + 2)));
        _ = parsed.FreeText;
        _ = parsed.Ports;
        _ = parsed.FilterNames;
        return true;
    }

    private static void CheckError(string input, QueryError error)
    {
        Assert.InRange(error.Position, 0, input.Length);
        Assert.InRange(error.Length, 0, input.Length - error.Position);
        Assert.Contains($"at position {error.Position.ToString(CultureInfo.InvariantCulture)}", error.Message, StringComparison.Ordinal);

        // Messages travel in JSON problem details: they must be valid UTF-16 without control characters.
        Assert.DoesNotContain(error.Message, c => char.IsControl(c));
        Assert.True(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(error.Message)) == error.Message, $"message of {Describe(input)} is not valid UTF-16");
    }

    private static int CountNodes(QueryNode node) => node switch
    {
        AndNode and => 1 + and.Terms.Sum(CountNodes),
        OrNode or => 1 + or.Terms.Sum(CountNodes),
        NotNode not => 1 + CountNodes(not.Term),
        _ => 1,
    };

    private static string NextFragmentString(Random random)
    {
        var builder = new StringBuilder();
        for (var n = random.Next(0, 12); n > 0; n--)
        {
            builder.Append(Fragments[random.Next(Fragments.Length)]);
        }

        return builder.ToString();
    }

    /// <summary>Near the length limit: half noise, half long but well-formed terms (phrases, lists, wildcards).</summary>
    private static string NextLongString(Random random)
    {
        var builder = new StringBuilder();
        var target = random.Next(2500, 4300);
        if (random.Next(2) == 0)
        {
            while (builder.Length < target)
            {
                builder.Append(Fragments[random.Next(Fragments.Length)]);
            }

            return builder.ToString();
        }

        string[] words = ["apache", "Zürich", "東京", "a\\\"b", "x\\,y", "1.2", "𠀀", "ok"];
        string Words(int count) => string.Join(' ', Enumerable.Range(0, count).Select(_ => words[random.Next(words.Length)]));
        target = Math.Min(target, QueryLimits.MaxQueryLength);
        for (var terms = 0; terms < QueryLimits.MaxTerms; terms++)
        {
            var term = random.Next(5) switch
            {
                0 => $"\"{Words(random.Next(1, 60))}\"",
                1 => $"city:\"{Words(random.Next(1, 8))},{Words(random.Next(1, 8))}*\"",
                2 => "port:" + string.Join(',', Enumerable.Range(0, random.Next(1, 200)).Select(_ => random.Next(0, 65536))),
                3 => $"-product:\"{Words(random.Next(1, 20))}\"",
                _ => $"http.title:\"{Words(random.Next(1, 30))}\"",
            };
            if (builder.Length + term.Length + 1 > target)
            {
                break;
            }

            builder.Append(term).Append(' ');
        }

        return builder.ToString();
    }

    private static string NextCodeUnitString(Random random)
    {
        var chars = new char[random.Next(0, 40)];
        for (var i = 0; i < chars.Length; i++)
        {
            // Mostly printable ASCII (where the syntax lives), sometimes anything at all.
            chars[i] = random.Next(4) == 0 ? (char)random.Next(0, 0x10000) : (char)random.Next(0x20, 0x7F);
        }

        return new string(chars);
    }

    private static string Mutate(Random random, string query)
    {
        var builder = new StringBuilder(query);
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            var at = random.Next(builder.Length + 1);
            switch (random.Next(3))
            {
                case 0:
                    builder.Insert(at, Fragments[random.Next(Fragments.Length)]);
                    break;
                case 1 when at < builder.Length:
                    builder.Remove(at, 1);
                    break;
                default:
                    if (at < builder.Length)
                    {
                        builder[at] = "\"\\,:-* "[random.Next(7)];
                    }

                    break;
            }
        }

        return builder.ToString();
    }

    private static string Describe(string input)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in input)
        {
            builder.Append(c is < ' ' or > '~' ? $"\\u{(int)c:X4}" : c.ToString());
        }

        return builder.Append('"').ToString();
    }
}
