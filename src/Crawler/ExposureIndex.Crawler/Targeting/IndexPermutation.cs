using System.Numerics;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// A keyed bijection of [0, N) onto itself for any N up to 2^64 - 1: position p of the sweep visits index
/// <c>this[p]</c>, every index exactly once, in an order that looks random and depends only on the seed.
/// </summary>
/// <remarks>
/// The construction is the generalised Feistel cipher over a mixed-radix domain of Black and Rogaway, "Ciphers
/// with Arbitrary Finite Domains" (CT-RSA 2002, method 3), the idea behind masscan's index cipher: the domain
/// [0, a*b) with a*b &gt;= N is split as x = L + a*R, and each round adds a keyed function of one half to the other
/// modulo a or b alternately, which is invertible whatever the round function is. Indexes that land in
/// [N, a*b) are walked again (cycle-walking, same paper, method 2) until they fall inside [0, N); with
/// a = ceil(sqrt N) the excess is below 2*sqrt(N), so almost every position costs one encryption.
/// The round function is a keyed 64-bit finaliser (MurmurHash3's fmix64 over the half xored with a round key
/// drawn from the seed by SplitMix64): quality of mixing affects only how random the order looks, never
/// correctness. This is not cryptography; the seed is not a secret.
/// </remarks>
internal sealed class IndexPermutation
{
    public const int Rounds = 6;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong[] _keys = new ulong[Rounds];

    public IndexPermutation(ulong count, ulong seed)
    {
        Count = count;
        Seed = seed;
        var state = seed;
        for (var i = 0; i < Rounds; i++)
        {
            _keys[i] = SplitMix64(ref state);
        }

        if (count == 0)
        {
            _a = _b = 1;
            return;
        }

        // a = ceil(sqrt(N)), b = ceil(N / a): a*b >= N and a*b - N < a.
        var a = (ulong)Math.Sqrt(count);
        while ((UInt128)a * a < count)
        {
            a++;
        }

        while (a > 1 && (UInt128)(a - 1) * (a - 1) >= count)
        {
            a--;
        }

        _a = a;
        _b = (ulong)(((UInt128)count + a - 1) / a);
        _fits64 = (UInt128)_a * _b <= ulong.MaxValue;
    }

    private readonly bool _fits64;

    public ulong Count { get; }

    public ulong Seed { get; }

    /// <summary>The index visited at <paramref name="position"/> (0 &lt;= position &lt; Count).</summary>
    public ulong this[ulong position]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(position, Count);
            if (_fits64)
            {
                var y = position;
                // Bounded: as below, in 64-bit arithmetic (the domain a*b fits, which is every N below about 2^64 - 2^33).
                do
                {
                    y = Encrypt64(y);
                }
                while (y >= Count);

                return y;
            }

            UInt128 x = position;
            // Bounded: Encrypt permutes [0, a*b), so the orbit of an index below N returns below N.
            do
            {
                x = Encrypt(x);
            }
            while (x >= Count);

            return (ulong)x;
        }
    }

    private ulong Encrypt64(ulong x)
    {
        var left = x % _a;
        var right = x / _a;
        for (var round = 0; round < Rounds; round++)
        {
            var modulus = (round & 1) == 0 ? _a : _b;
            var sum = left + (Mix(right ^ _keys[round]) % modulus);
            var next = sum >= modulus ? sum - modulus : sum;
            left = right;
            right = next;
        }

        return left + (_a * right);
    }

    private UInt128 Encrypt(UInt128 x)
    {
        var left = (ulong)(x % _a);
        var right = (ulong)(x / _a);
        for (var round = 0; round < Rounds; round++)
        {
            // Round 1, 3, 5 (index 0, 2, 4) work modulo a, the others modulo b (Black-Rogaway FE2).
            var modulus = (round & 1) == 0 ? _a : _b;
            var mixed = Mix(right ^ _keys[round]) % modulus;
            var sum = left + mixed;
            var next = sum >= modulus || sum < left ? sum - modulus : sum;
            left = right;
            right = next;
        }

        // An even round count leaves L in [0, a) and R in [0, b).
        return left + ((UInt128)_a * right);
    }

    /// <summary>MurmurHash3's 64-bit finaliser: every input bit affects every output bit.</summary>
    private static ulong Mix(ulong k)
    {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdUL;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53UL;
        k ^= k >> 33;
        return k;
    }

    /// <summary>SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): expands one seed into independent round keys.</summary>
    internal static ulong SplitMix64(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        var z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>log2 of the domain, for diagnostics.</summary>
    public int DomainBits => Count == 0 ? 0 : 64 - BitOperations.LeadingZeroCount(Count - 1);
}
