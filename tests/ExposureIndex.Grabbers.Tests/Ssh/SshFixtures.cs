using System.Buffers.Binary;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Ssh;

/// <summary>The captured OpenSSH transcript, its parts, and the values Python computed from it independently.</summary>
internal static class SshFixtures
{
    public static byte[] Transcript => ProtocolFixtures.Read("Ssh", "openssh-transcript.bin");

    public static IReadOnlyDictionary<string, string> Expected { get; } = System.Text.Encoding.UTF8.GetString(ProtocolFixtures.Read("Ssh", "openssh-transcript.expected.txt"))
        .Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Where(l => !l.StartsWith('#'))
        .Select(l => l.Split('=', 2))
        .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

    /// <summary>Offsets of the end of the identification line and of each binary packet in <paramref name="transcript"/>.</summary>
    public static List<int> Boundaries(byte[] transcript)
    {
        var ends = new List<int> { Array.IndexOf(transcript, (byte)'\n') + 1 };
        var at = ends[0];
        while (at + 4 <= transcript.Length)
        {
            at += 4 + (int)BinaryPrimitives.ReadUInt32BigEndian(transcript.AsSpan(at));
            ends.Add(at);
        }

        return ends;
    }
}
