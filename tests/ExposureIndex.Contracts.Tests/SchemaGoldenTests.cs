using ExposureIndex.Contracts.V1;
using ExposureIndex.TestCommon;
using Google.Protobuf.Reflection;

namespace ExposureIndex.Contracts.Tests;

/// <summary>
/// Field numbers, types and enum values reach disk and the wire, so they are append-only (GUIDE §3.11).
/// Golden/schema.txt records every field and enum value ever shipped; a change to any recorded line fails.
/// New fields fail too until they are appended to the golden file on purpose
/// (EXPOSUREINDEX_UPDATE_GOLDEN=1 dotnet test ... rewrites it; review the diff: only added lines are allowed).
/// </summary>
public sealed class SchemaGoldenTests
{
    private static readonly FileDescriptor[] Files =
    [
        RecordsReflection.Descriptor, IngestReflection.Descriptor, StoreReflection.Descriptor,
        ProtocolsTextReflection.Descriptor, ProtocolsBinaryReflection.Descriptor,
    ];

    private static string GoldenPath => Path.Combine(RepoPaths.Root, "tests", "ExposureIndex.Contracts.Tests", "Golden", "schema.txt");

    public static IReadOnlyList<string> CurrentSchema()
    {
        var lines = new List<string>();
        foreach (var file in Files)
        {
            foreach (var message in file.MessageTypes)
            {
                Describe(message, lines);
            }

            foreach (var e in file.EnumTypes)
            {
                foreach (var value in e.Values)
                {
                    lines.Add($"enum {e.FullName}.{value.Name} = {value.Number}");
                }
            }

            foreach (var service in file.Services)
            {
                foreach (var method in service.Methods)
                {
                    lines.Add($"rpc {service.FullName}/{method.Name} ({(method.IsClientStreaming ? "stream " : string.Empty)}{method.InputType.FullName}) returns ({(method.IsServerStreaming ? "stream " : string.Empty)}{method.OutputType.FullName})");
                }
            }
        }

        return lines;
    }

    [Fact]
    public void Schema_EveryShippedFieldIsUnchanged()
    {
        var golden = File.ReadAllLines(GoldenPath).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var current = CurrentSchema().ToHashSet(StringComparer.Ordinal);
        var changed = golden.Where(line => !current.Contains(line)).ToList();
        Assert.True(changed.Count == 0, "shipped schema lines were changed or removed (field numbers, types and enum values are append-only):\n" + string.Join('\n', changed));
    }

    [Fact]
    public void Schema_NewFieldsAreRecordedInTheGoldenFile()
    {
        var golden = File.ReadAllLines(GoldenPath).Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet(StringComparer.Ordinal);
        var added = CurrentSchema().Where(line => !golden.Contains(line)).ToList();
        if (added.Count > 0 && Environment.GetEnvironmentVariable("EXPOSUREINDEX_UPDATE_GOLDEN") == "1")
        {
            File.AppendAllLines(GoldenPath, added);
            return;
        }

        Assert.True(added.Count == 0, "new schema lines are not in Golden/schema.txt yet; append them deliberately (EXPOSUREINDEX_UPDATE_GOLDEN=1):\n" + string.Join('\n', added));
    }

    [Fact]
    public void Schema_FieldNumbersAreUniqueWithinEachMessage()
    {
        foreach (var file in Files)
        {
            foreach (var message in file.MessageTypes)
            {
                var numbers = message.Fields.InDeclarationOrder().Select(f => f.FieldNumber).ToList();
                Assert.Equal(numbers.Count, numbers.Distinct().Count());
            }
        }
    }

    [Fact]
    public void Enums_HaveAnUnspecifiedZeroValue()
    {
        foreach (var e in Files.SelectMany(f => f.EnumTypes))
        {
            Assert.Equal(0, e.Values[0].Number);
        }
    }

    private static void Describe(MessageDescriptor message, List<string> lines)
    {
        foreach (var field in message.Fields.InFieldNumberOrder())
        {
            var type = field.FieldType switch
            {
                FieldType.Message => field.IsMap ? $"map<{TypeName(field.MessageType.Fields[1])},{TypeName(field.MessageType.Fields[2])}>" : field.MessageType.FullName,
                FieldType.Enum => field.EnumType.FullName,
                _ => field.FieldType.ToString().ToLowerInvariant(),
            };
            var label = field.IsRepeated && !field.IsMap ? "repeated " : string.Empty;
            var oneof = field.RealContainingOneof is { } o ? $" oneof {o.Name}" : string.Empty;
            lines.Add($"field {message.FullName}.{field.Name} = {field.FieldNumber} {label}{type}{oneof}");
        }

        foreach (var nested in message.NestedTypes.Where(n => !n.GetOptions()?.MapEntry ?? true))
        {
            Describe(nested, lines);
        }
    }

    private static string TypeName(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Message => field.MessageType.FullName,
        FieldType.Enum => field.EnumType.FullName,
        _ => field.FieldType.ToString().ToLowerInvariant(),
    };
}
