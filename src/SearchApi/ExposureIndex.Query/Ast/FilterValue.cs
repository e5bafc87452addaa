using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ExposureIndex.Query;

/// <summary>
/// A filter's value, already normalized by its <see cref="FilterDefinition"/> (upper-cased country codes,
/// AS-prefixed ASNs, lower-cased digests...), so every backend compares the same thing. The set of value types is
/// closed. <see cref="ToString"/> gives the value in query syntax (quoted and escaped where needed).
/// </summary>
public abstract record FilterValue
{
    private protected FilterValue()
    {
    }

    public sealed override string ToString() => QueryFormatter.FormatValue(this, requirePrefix: false);
}

/// <summary>
/// An exact value of a <see cref="FilterKind.Keyword"/> filter, compared case-insensitively unless
/// <see cref="FilterDefinition.CaseSensitive"/> (see also <see cref="FilterDefinition.SuffixMatch"/> and
/// <see cref="FilterDefinition.PrefixMatch"/>).
/// </summary>
public sealed record KeywordValue(string Value) : FilterValue
{
    public string Value { get; } = string.IsNullOrEmpty(Value) ? throw new ArgumentException("a keyword value cannot be empty", nameof(Value)) : Value;
}

/// <summary>A wildcard value of a <see cref="FilterKind.Keyword"/> filter that allows wildcards (<c>product:"nginx*"</c>); it must match the whole field value.</summary>
public sealed record WildcardValue(GlobPattern Pattern) : FilterValue
{
    public GlobPattern Pattern { get; } = Pattern ?? throw new ArgumentNullException(nameof(Pattern));
}

/// <summary>
/// A value of a <see cref="FilterKind.Text"/> filter (<c>http.title</c>, <c>org</c>): matches when the field
/// contains these words consecutively, case-insensitively (words as <see cref="TextTokenizer"/> defines them).
/// Whitespace is trimmed and runs collapsed to one space. The parser rejects a value without any word.
/// </summary>
public sealed record PhraseValue(string Text) : FilterValue
{
    public string Text { get; } = string.IsNullOrEmpty(Text) ? throw new ArgumentException("a phrase value cannot be empty", nameof(Text)) : Text;

    /// <summary>The lower-cased words to look for, per <see cref="TextTokenizer"/>.</summary>
    public IReadOnlyList<string> Words => TextTokenizer.Tokenize(Text);
}

/// <summary>A value of an <see cref="FilterKind.Integer"/> or <see cref="FilterKind.Hash"/> filter, within the definition's range.</summary>
public sealed record IntegerValue(long Value) : FilterValue;

/// <summary>
/// An address block of a <see cref="FilterKind.Network"/> filter. Always normalized: host bits are zero and an
/// IPv4-mapped IPv6 block (prefix of at least 96) is expressed as IPv4. A single address has the full prefix.
/// Build one from arbitrary input with <see cref="Create"/>.
/// </summary>
public sealed record NetworkValue(IPAddress Network, int PrefixLength) : FilterValue
{
    public IPAddress Network { get; } = CheckNormalized(Network, PrefixLength);

    // Get-only (no init), so that a 'with' expression cannot produce an unnormalized block.
    public int PrefixLength { get; } = PrefixLength;

    /// <summary>32 for IPv4, 128 for IPv6.</summary>
    public int MaxPrefixLength => Network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;

    /// <summary>True when the block is one address.</summary>
    public bool IsSingleAddress => PrefixLength == MaxPrefixLength;

    /// <summary>Normalizes <paramref name="address"/>/<paramref name="prefixLength"/>: unwraps IPv4-mapped IPv6 and zeroes host bits.</summary>
    public static NetworkValue Create(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException("only IPv4 and IPv6 addresses form networks", nameof(address));
        }

        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, max);
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
        {
            address = new IPAddress(address.GetAddressBytes());
        }

        if (address.IsIPv4MappedToIPv6 && prefixLength >= 96)
        {
            address = address.MapToIPv4();
            prefixLength -= 96;
        }

        return new NetworkValue(new IPAddress(Mask(address.GetAddressBytes(), prefixLength)), prefixLength);
    }

    /// <summary>True when <paramref name="address"/> lies in this block (IPv4-mapped IPv6 addresses count as IPv4).</summary>
    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != Network.AddressFamily)
        {
            return false;
        }

        var candidate = Mask(address.GetAddressBytes(), PrefixLength);
        return Network.GetAddressBytes().AsSpan().SequenceEqual(candidate);
    }

    /// <summary>The block in CIDR notation, always with its prefix (<c>192.0.2.0/24</c>, <c>192.0.2.1/32</c>).</summary>
    public string ToCidrString() => Network.ToString() + "/" + PrefixLength.ToString(CultureInfo.InvariantCulture);

    internal static byte[] Mask(byte[] bytes, int prefixLength)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            var bitsInByte = Math.Clamp(prefixLength - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bitsInByte));
        }

        return bytes;
    }

    private static IPAddress CheckNormalized(IPAddress network, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(network);
        var max = network.AddressFamily switch
        {
            AddressFamily.InterNetwork => 32,
            AddressFamily.InterNetworkV6 => 128,
            _ => throw new ArgumentException("only IPv4 and IPv6 addresses form networks", nameof(network)),
        };
        if (prefixLength < 0 || prefixLength > max)
        {
            throw new ArgumentOutOfRangeException(nameof(prefixLength), prefixLength, $"prefix length must be between 0 and {max}");
        }

        if ((network.IsIPv4MappedToIPv6 && prefixLength >= 96) || (max == 128 && network.ScopeId != 0))
        {
            throw new ArgumentException("network is not normalized; use NetworkValue.Create", nameof(network));
        }

        var bytes = network.GetAddressBytes();
        if (!bytes.AsSpan().SequenceEqual(Mask((byte[])bytes.Clone(), prefixLength)))
        {
            throw new ArgumentException("network has host bits set; use NetworkValue.Create", nameof(network));
        }

        return network;
    }
}

/// <summary>A point in time of a <see cref="FilterKind.Date"/> filter, in UTC; compare as <see cref="FilterDefinition.Comparison"/> says.</summary>
public sealed record DateValue(DateTimeOffset Value) : FilterValue
{
    public DateTimeOffset Value { get; } = Value.ToUniversalTime();
}

/// <summary>A value of a <see cref="FilterKind.Boolean"/> filter (see <see cref="FilterDefinition.TestsPresence"/>).</summary>
public sealed record BooleanValue(bool Value) : FilterValue;
