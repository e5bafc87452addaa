using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// An inclusive range of addresses of one family, as unsigned integers (IPv4 in the low 32 bits). One shape for
/// targets, blocklist entries and exclusions, so set operations (merge, subtract, lookup) are plain integer math.
/// </summary>
internal readonly record struct AddressRange(AddressFamily Family, UInt128 First, UInt128 Last) : IComparable<AddressRange>
{
    public static UInt128 MaxValue(AddressFamily family) => family == AddressFamily.InterNetwork ? uint.MaxValue : UInt128.MaxValue;

    public static int MaxPrefix(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;

    /// <summary>Number of addresses; saturates at <see cref="UInt128.MaxValue"/> for the whole IPv6 space.</summary>
    public UInt128 Count => Last - First == UInt128.MaxValue ? UInt128.MaxValue : Last - First + 1;

    public bool Contains(UInt128 key) => key >= First && key <= Last;

    public static AddressRange Single(IPAddress address)
    {
        var key = ToKey(address);
        return new AddressRange(address.AddressFamily, key, key);
    }

    /// <summary>The network <paramref name="address"/>/<paramref name="prefix"/>; host bits are cleared, as nmap does.</summary>
    public static AddressRange FromPrefix(IPAddress address, int prefix)
    {
        var family = address.AddressFamily;
        var bits = MaxPrefix(family);
        if (prefix < 0 || prefix > bits)
        {
            throw new ArgumentOutOfRangeException(nameof(prefix), prefix, $"prefix length must be 0-{bits}");
        }

        var hostBits = bits - prefix;
        var hostMask = hostBits == 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
        var first = ToKey(address) & ~hostMask & MaxValue(family);
        return new AddressRange(family, first, first | hostMask);
    }

    /// <summary>Parses a prefix written in code (the blocklist tables); throws on a typo there.</summary>
    public static AddressRange ParsePrefix(string cidr)
    {
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        var address = IPAddress.Parse(cidr[..slash]);
        return FromPrefix(address, int.Parse(cidr.AsSpan(slash + 1), System.Globalization.CultureInfo.InvariantCulture));
    }

    public static UInt128 ToKey(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            throw new ArgumentException($"cannot read the bytes of {address}", nameof(address));
        }

        return written == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    public static IPAddress ToAddress(AddressFamily family, UInt128 key)
    {
        if (family == AddressFamily.InterNetwork)
        {
            Span<byte> v4 = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(v4, (uint)key);
            return new IPAddress(v4);
        }

        Span<byte> v6 = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(v6, key);
        return new IPAddress(v6);
    }

    public IPAddress FirstAddress => ToAddress(Family, First);

    public IPAddress LastAddress => ToAddress(Family, Last);

    /// <summary>Prefix length when the range is exactly one CIDR block, else -1.</summary>
    public int PrefixLength
    {
        get
        {
            var span = Last - First;
            // A CIDR block spans 2^k - 1 and starts on a multiple of 2^k.
            if ((span & (span + 1)) != 0 && span != UInt128.MaxValue)
            {
                return -1;
            }

            if ((First & span) != 0)
            {
                return -1;
            }

            var hostBits = span == UInt128.MaxValue ? 128 : (int)UInt128.Log2(span + 1);
            return MaxPrefix(Family) - hostBits;
        }
    }

    public int CompareTo(AddressRange other)
    {
        var family = Family.CompareTo(other.Family);
        if (family != 0)
        {
            return family;
        }

        var first = First.CompareTo(other.First);
        return first != 0 ? first : Last.CompareTo(other.Last);
    }

    /// <summary>"a.b.c.d" for one address, "net/len" for a CIDR block, else "first-last".</summary>
    public override string ToString()
    {
        if (First == Last)
        {
            return FirstAddress.ToString();
        }

        var prefix = PrefixLength;
        return prefix >= 0 ? $"{FirstAddress}/{prefix}" : $"{FirstAddress}-{LastAddress}";
    }
}
