using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// One unit of a sweep: (ip, port, transport), with the address kept as its integer key so the hot paths
/// (permutation, SYN sender, rate limiter) never allocate an <see cref="IPAddress"/>.
/// </summary>
internal readonly record struct ScanTriple(AddressFamily Family, UInt128 AddressKey, int Port, Transport Transport)
{
    public IPAddress Address => AddressRange.ToAddress(Family, AddressKey);

    /// <summary>The engine's shape of the same target (address and port; the transport travels beside it).</summary>
    public ScanTarget Target => new(Address, Port);

    public bool IsIPv4 => Family == AddressFamily.InterNetwork;

    /// <summary>The canonical service key text, <c>1.2.3.4:80/tcp</c> or <c>[2001:db8::1]:53/udp</c>, as the dry run prints it.</summary>
    public override string ToString() => new ServiceKey(Address, Port, Transport).ToString();

    /// <summary>Appends the same text as <see cref="ToString"/> without intermediate strings (the dry run writes millions).</summary>
    public void AppendTo(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (IsIPv4)
        {
            var v4 = (uint)AddressKey;
            Span<char> text = stackalloc char[32];
            var n = 0;
            for (var shift = 24; shift >= 0; shift -= 8)
            {
                ((v4 >> shift) & 0xFF).TryFormat(text[n..], out var written, default, CultureInfo.InvariantCulture);
                n += written;
                text[n++] = shift > 0 ? '.' : ':';
            }

            Port.TryFormat(text[n..], out var portChars, default, CultureInfo.InvariantCulture);
            n += portChars;
            writer.Write(text[..n]);
            writer.Write(Transport == Transport.Udp ? "/udp" : "/tcp");
            return;
        }

        writer.Write(ToString());
    }
}
