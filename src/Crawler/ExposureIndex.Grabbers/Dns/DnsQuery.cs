using System.Buffers.Binary;
using System.Text;

namespace ExposureIndex.Grabbers.Dns;

/// <summary>Builds the only queries we send: CHAOS-class TXT questions about the server itself (RFC 1035 §4.1, RFC 4892).</summary>
internal static class DnsQuery
{
    public const int TypeTxt = 16;
    public const int ClassChaos = 3;

    /// <summary>The server's software version (a BIND convention every major server follows or refuses).</summary>
    public const string VersionBind = "version.bind";

    /// <summary>The answering server's host name (BIND convention).</summary>
    public const string HostnameBind = "hostname.bind";

    /// <summary>The answering server's identifier (RFC 4892 §2.1).</summary>
    public const string IdServer = "id.server";

    /// <summary>
    /// A query for <paramref name="name"/> CH TXT. RD is clear: we never ask a server to recurse, and a CHAOS
    /// question names nothing outside the server anyway.
    /// </summary>
    public static byte[] Build(ushort id, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var labels = name.Split('.', StringSplitOptions.RemoveEmptyEntries);
        var question = new List<byte>(name.Length + 6);
        foreach (var label in labels)
        {
            var bytes = Encoding.ASCII.GetBytes(label);
            question.Add((byte)bytes.Length);
            question.AddRange(bytes);
        }

        question.Add(0);
        var message = new byte[12 + question.Count + 4];
        BinaryPrimitives.WriteUInt16BigEndian(message, id);
        // flags 0: a standard query (opcode 0), RD clear.
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), 1);
        question.CopyTo(message, 12);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(12 + question.Count), TypeTxt);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(14 + question.Count), ClassChaos);
        return message;
    }

    /// <summary>The same query framed for TCP (RFC 1035 §4.2.2: a two-byte length first).</summary>
    public static byte[] BuildTcp(ushort id, string name)
    {
        var message = Build(id, name);
        var framed = new byte[message.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)message.Length);
        message.CopyTo(framed, 2);
        return framed;
    }
}
