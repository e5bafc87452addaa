using System.Numerics;
using System.Security.Cryptography;

namespace ExposureIndex.Grabbers.Tls;

/// <summary>
/// X25519 (RFC 7748 §5) for the key shares our probes offer (TLS 1.3 key_share, SSH curve25519-sha256). .NET's
/// ECDiffieHellman has no Curve25519 on Linux. Only public keys are ever used: a grabber never derives session
/// keys, so this plain BigInteger ladder (not constant-time) serves a throwaway scalar and nothing secret.
/// </summary>
internal static class X25519
{
    private static readonly BigInteger P = BigInteger.Pow(2, 255) - 19;
    private static readonly BigInteger A24 = 121665;

    /// <summary>A fresh public key (the private scalar is discarded: we never complete a key exchange).</summary>
    public static byte[] NewPublicKey()
    {
        var scalar = RandomNumberGenerator.GetBytes(32);
        var basePoint = new byte[32];
        basePoint[0] = 9;
        return ScalarMult(scalar, basePoint);
    }

    /// <summary>X25519(k, u) with RFC 7748's clamping and little-endian encodings.</summary>
    public static byte[] ScalarMult(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> u)
    {
        if (scalar.Length != 32 || u.Length != 32)
        {
            throw new ArgumentException("X25519 scalars and u-coordinates are 32 bytes.");
        }

        var k = scalar.ToArray();
        k[0] &= 248;
        k[31] &= 127;
        k[31] |= 64;
        var uBytes = u.ToArray();
        uBytes[31] &= 127;
        var x1 = new BigInteger(uBytes, isUnsigned: true, isBigEndian: false) % P;
        BigInteger x2 = 1, z2 = 0, x3 = x1, z3 = 1;
        var swap = 0;
        for (var t = 254; t >= 0; t--)
        {
            var bit = (k[t >> 3] >> (t & 7)) & 1;
            swap ^= bit;
            if (swap == 1)
            {
                (x2, x3) = (x3, x2);
                (z2, z3) = (z3, z2);
            }

            swap = bit;
            var a = Mod(x2 + z2);
            var aa = Mod(a * a);
            var b = Mod(x2 - z2);
            var bb = Mod(b * b);
            var e = Mod(aa - bb);
            var c = Mod(x3 + z3);
            var d = Mod(x3 - z3);
            var da = Mod(d * a);
            var cb = Mod(c * b);
            x3 = Mod((da + cb) * (da + cb));
            z3 = Mod(x1 * Mod((da - cb) * (da - cb)));
            x2 = Mod(aa * bb);
            z2 = Mod(e * (aa + (A24 * e)));
        }

        if (swap == 1)
        {
            x2 = x3;
            z2 = z3;
        }

        var result = Mod(x2 * BigInteger.ModPow(z2, P - 2, P));
        var output = new byte[32];
        result.TryWriteBytes(output, out _, isUnsigned: true, isBigEndian: false);
        return output;
    }

    private static BigInteger Mod(BigInteger value)
    {
        var r = value % P;
        return r.Sign < 0 ? r + P : r;
    }
}
