using System.Text;
using System.Text.Json;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Grabbers.Tests.Support;

/// <summary>Captured fixture files under tests/ExposureIndex.Grabbers.Tests/Fixtures/&lt;Proto&gt;/, and what parser tests do with them.</summary>
internal static class ProtocolFixtures
{
    public static byte[] Read(string protocol, string name)
        => File.ReadAllBytes(Path.Combine(RepoPaths.Root, "tests", "ExposureIndex.Grabbers.Tests", "Fixtures", protocol, name));

    /// <summary>A stable text form of a result (records holding lists lack value equality).</summary>
    public static string Canonical<T>(T value) => JsonSerializer.Serialize(value);

    /// <summary>How many bytes of <paramref name="transcript"/> a fresh parser needs before it completes (the transcript may go on, e.g. with a QUIT reply).</summary>
    public static int CompletionLength<T>(Func<IIncrementalParser<T>> create, byte[] transcript)
        where T : class
    {
        var parser = create();
        for (var i = 0; i < transcript.Length; i++)
        {
            if (parser.Feed(transcript.AsSpan(i, 1)) == ParseStatus.Complete)
            {
                return i + 1;
            }
        }

        throw new InvalidOperationException($"the parser never completed on {transcript.Length} bytes: {parser.Error}");
    }

    /// <summary>Feeds a transcript whole and returns the commands the parser handed out, in order.</summary>
    public static IReadOnlyList<string> Commands<T>(IConversationParser<T> parser, byte[] transcript)
        where T : class
    {
        var sent = new List<string>();
        void Take()
        {
            var bytes = parser.TakeOutgoing();
            if (!bytes.IsEmpty)
            {
                sent.Add(Encoding.Latin1.GetString(bytes.Span));
            }
        }

        Take();
        foreach (var b in transcript)
        {
            if (parser.Feed([b]) != ParseStatus.NeedMore)
            {
                break;
            }

            Take();
        }

        Take();
        return sent;
    }
}
