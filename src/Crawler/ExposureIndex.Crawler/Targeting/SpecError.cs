using System.Globalization;

namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// A parse error in a target or port specification, naming the bad token and where it stands:
/// <c>argument 2, column 9</c> for command-line text, <c>hosts.txt:12:5</c> for a line of a file.
/// </summary>
/// <param name="Source">"argument 2", "ports", or a file path.</param>
/// <param name="Line">1-based line inside a file; 0 for command-line text.</param>
/// <param name="Column">1-based character column.</param>
/// <param name="Token">The offending token as written.</param>
/// <param name="Message">What is wrong with it.</param>
public sealed record SpecError(string Source, int Line, int Column, string Token, string Message)
{
    public string Position => Line > 0
        ? string.Create(CultureInfo.InvariantCulture, $"{Source}:{Line}:{Column}")
        : string.Create(CultureInfo.InvariantCulture, $"{Source}, column {Column}");

    public override string ToString() => $"{Position}: '{Token}': {Message}";
}
