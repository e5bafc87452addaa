namespace ExposureIndex.GeoIp;

/// <summary>
/// Whole-file verification in the spirit of mmdbverify: the 16-byte separator is zero, every node reachable
/// from the root is visited once (cycles and paths longer than the address are errors), every data record
/// value is inside the data section, and every distinct record decodes under the decoder limits.
/// </summary>
internal sealed class MmdbVerifier
{
    private const byte Unvisited = 0;
    private const byte Visiting = 255;

    private readonly MmdbSearchTree _tree;
    private readonly int _maxBits;
    private readonly byte[] _states;
    private readonly HashSet<long> _offsets = [];

    private MmdbVerifier(MmdbSearchTree tree)
    {
        _tree = tree;
        _maxBits = tree.IpVersion == 6 ? 128 : 32;

        // One byte per node: 0 unvisited, 255 on the current path, otherwise 1 + the node's height (bits to its deepest record).
        _states = new byte[tree.NodeCount];
    }

    public static void Verify(MmdbBuffer buffer, MmdbSearchTree tree, MmdbDecoder data, long separatorStart)
    {
        if (!buffer.TrySlice(separatorStart, 16, out var separator))
        {
            throw new MmdbFormatException("MMDB data section separator is missing: the file ends inside it", MmdbSection.Separator, 0, null);
        }

        var nonZero = separator.IndexOfAnyExcept((byte)0);
        if (nonZero >= 0)
        {
            throw new MmdbFormatException(
                $"MMDB data section separator is corrupt at offset {nonZero}: byte 0x{separator[nonZero]:X2} where the spec requires 16 zero bytes",
                MmdbSection.Separator,
                nonZero,
                null);
        }

        var verifier = new MmdbVerifier(tree);
        verifier.VisitNode(0, 0);
        verifier.CheckUnreachableNodes();

        var offsets = verifier._offsets.ToArray();
        Array.Sort(offsets);
        foreach (var offset in offsets)
        {
            data.Decode(offset);
        }
    }

    private int VisitNode(uint node, int depth)
    {
        if (depth >= _maxBits)
        {
            throw MmdbFormatException.Tree(node, $"the node lies at depth {depth}, beyond the {_maxBits}-bit address space");
        }

        var state = _states[node];
        if (state == Visiting)
        {
            throw MmdbFormatException.Tree(node, "the node is its own ancestor (cycle in the search tree)");
        }

        if (state != Unvisited)
        {
            var height = state - 1;
            if (depth + height > _maxBits)
            {
                throw MmdbFormatException.Tree(node, $"a path through the node is {depth + height} bits long, beyond the {_maxBits}-bit address space");
            }

            return height;
        }

        _states[node] = Visiting;
        var left = VisitRecord(node, _tree.ReadRecord(node, 0), depth + 1);
        var right = VisitRecord(node, _tree.ReadRecord(node, 1), depth + 1);
        var result = Math.Max(left, right) + 1;
        _states[node] = (byte)(result + 1);
        return result;
    }

    /// <summary>
    /// Nodes no lookup can reach are harmless, but a writer never leaves them behind: their records must still
    /// be valid values, and whatever data they name must decode.
    /// </summary>
    private void CheckUnreachableNodes()
    {
        for (uint node = 0; node < _tree.NodeCount; node++)
        {
            if (_states[node] != Unvisited)
            {
                continue;
            }

            for (var bit = 0; bit < 2; bit++)
            {
                var value = _tree.ReadRecord(node, bit);
                if (value == 0)
                {
                    throw MmdbFormatException.TreeRecord(node, 0, "points back to the root node (unreachable node)");
                }

                if (value > _tree.NodeCount)
                {
                    _offsets.Add(_tree.DataOffset(node, value));
                }
            }
        }
    }

    private int VisitRecord(uint parent, uint value, int depth)
    {
        if (value == 0)
        {
            throw MmdbFormatException.TreeRecord(parent, 0, "points back to the root node");
        }

        if (value == _tree.NodeCount)
        {
            return 0;
        }

        if (value < _tree.NodeCount)
        {
            return VisitNode(value, depth);
        }

        _offsets.Add(_tree.DataOffset(parent, value));
        return 0;
    }
}
