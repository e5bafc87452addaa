using System.Text.Json;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Grabbers.Tests.Support;

/// <summary>Captured fixture files under tests/ExposureIndex.Grabbers.Tests/Fixtures/&lt;Proto&gt;/.</summary>
internal static class ProtocolFixtures
{
    public static byte[] Read(string protocol, string name)
        => File.ReadAllBytes(Path.Combine(RepoPaths.Root, "tests", "ExposureIndex.Grabbers.Tests", "Fixtures", protocol, name));

    /// <summary>A stable text form of a result (records holding lists lack value equality).</summary>
    public static string Canonical<T>(T value) => JsonSerializer.Serialize(value);
}
