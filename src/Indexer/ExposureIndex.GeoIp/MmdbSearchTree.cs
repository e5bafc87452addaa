using System.Buffers.Binary;

namespace ExposureIndex.GeoIp;

/// <summary>
/// Layer 2 of the reader: the binary search tree (spec 2.0, "Binary Search Tree Section"). Node reads are
/// unchecked because the constructor's caller has proved once that node_count * node size + 16 bytes fit
/// before the metadata; every record value is classified (node, empty, data, or corrupt) before use.
/// </summary>
internal sealed unsafe class MmdbSearchTree
{
    private const int SeparatorSize = 16;

    private readonly MmdbBuffer _buffer;
    private readonly uint _nodeCount;
    private readonly int _recordSize;
    private readonly int _nodeBytes;
    private readonly long _dataSize;

    public MmdbSearchTree(MmdbBuffer buffer, MmdbMetadata metadata, long dataSize)
    {
        _buffer = buffer;
        _nodeCount = metadata.NodeCount;
        _recordSize = metadata.RecordSize;
        _nodeBytes = metadata.RecordSize / 4;
        _dataSize = dataSize;
        IpVersion = metadata.IpVersion;

        // IPv4 addresses live at ::a.b.c.d in an IPv6 tree (spec: "IPv4 addresses in an IPv6 tree"), so the
        // walk for every IPv4 lookup starts where 96 zero bits lead; find that node once.
        uint node = 0;
        uint parent = 0;
        var depth = 0;
        if (IpVersion == 6)
        {
            while (depth < 96 && node < _nodeCount)
            {
                parent = node;
                node = ReadRecord(node, 0);
                depth++;
            }
        }

        Ipv4Start = node;
        Ipv4StartParent = parent;
        Ipv4StartDepth = depth;
    }

    public int IpVersion { get; }

    public uint NodeCount => _nodeCount;

    public uint Ipv4Start { get; }

    public uint Ipv4StartParent { get; }

    public int Ipv4StartDepth { get; }

    /// <summary>
    /// Walks the tree for a 4- or 16-byte big-endian address. Returns true with the data-section offset of
    /// the record, or false for "no data"; <paramref name="prefixLength"/> is the number of address bits
    /// used (for a 4-byte address in an IPv6 tree, counted from the IPv4 start node, so 0-32).
    /// A 16-byte address in an IPv4 tree is a miss with prefix length 0 (the caller documents this).
    /// </summary>
    public bool TryFind(ReadOnlySpan<byte> address, out long dataOffset, out int prefixLength)
    {
        uint node;
        uint parent;
        if (address.Length == 4)
        {
            node = Ipv4Start;
            parent = Ipv4StartParent;
        }
        else if (IpVersion == 4)
        {
            dataOffset = -1;
            prefixLength = 0;
            return false;
        }
        else
        {
            node = 0;
            parent = 0;
        }

        var bitCount = address.Length * 8;
        var nodeCount = _nodeCount;
        var i = 0;
        while (node < nodeCount && i < bitCount)
        {
            parent = node;
            var bit = (address[i >> 3] >> (7 - (i & 7))) & 1;
            node = ReadRecord(node, bit);
            if (node == 0)
            {
                // The root has no parent: a record naming node 0 can only close a cycle.
                throw MmdbFormatException.TreeRecord(parent, 0, "points back to the root node");
            }

            i++;
        }

        prefixLength = i;
        if (node == nodeCount)
        {
            dataOffset = -1;
            return false;
        }

        if (node < nodeCount)
        {
            throw MmdbFormatException.Tree(node, $"all {bitCount} bits of the address were used without reaching a record (the tree is deeper than the address)");
        }

        dataOffset = DataOffset(parent, node);
        return true;
    }

    /// <summary>Turns a data record value into a data-section offset (spec: "$data_section_offset = ($record_value - $node_count) - 16").</summary>
    public long DataOffset(uint parentNode, uint recordValue)
    {
        var beyond = (long)recordValue - _nodeCount;
        if (beyond < SeparatorSize)
        {
            throw MmdbFormatException.TreeRecord(parentNode, recordValue, $"points into the 16-byte data section separator (node_count is {_nodeCount})");
        }

        var offset = beyond - SeparatorSize;
        if (offset >= _dataSize)
        {
            throw MmdbFormatException.TreeRecord(parentNode, recordValue, $"exceeds node_count + 16 + data section size ({_nodeCount} + 16 + {_dataSize})");
        }

        return offset;
    }

    /// <summary>Reads the left (bit 0) or right (bit 1) record of <paramref name="node"/> (spec: "Node Layout").</summary>
    public uint ReadRecord(uint node, int bit)
    {
        var p = _buffer.UncheckedPointer((long)node * _nodeBytes);
        switch (_recordSize)
        {
            case 24:
                p += bit * 3;
                return (uint)((p[0] << 16) | (p[1] << 8) | p[2]);
            case 28:
                // The middle byte holds the top 4 bits of both records: left in its high nibble, right in its low.
                return bit == 0
                    ? (uint)(((p[3] & 0xF0) << 20) | (p[0] << 16) | (p[1] << 8) | p[2])
                    : (uint)(((p[3] & 0x0F) << 24) | (p[4] << 16) | (p[5] << 8) | p[6]);
            default:
                return BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(p + (bit * 4), 4));
        }
    }
}
