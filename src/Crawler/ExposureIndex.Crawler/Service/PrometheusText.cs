using System.Globalization;
using System.Text;

namespace ExposureIndex.Crawler.Service;

/// <summary>
/// Builds a metrics page in the Prometheus text exposition format, version 0.0.4 (Prometheus docs, "Exposition
/// formats"): per family one <c># HELP</c> and one <c># TYPE</c> line, then its samples
/// <c>name{label="value"} number</c>; label values escape backslash, double quote and newline, help text escapes
/// backslash and newline. Names are checked against <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>, so a typo fails a test
/// rather than a scrape.
/// </summary>
internal sealed class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new();
    private readonly HashSet<string> _families = new(StringComparer.Ordinal);

    public PrometheusText Counter(string name, string help, double value, params (string Name, string Value)[] labels)
        => Family(name, "counter", help).Sample(name, value, labels);

    public PrometheusText Gauge(string name, string help, double value, params (string Name, string Value)[] labels)
        => Family(name, "gauge", help).Sample(name, value, labels);

    /// <summary>Starts a family (HELP and TYPE once); add samples with <see cref="Sample"/>.</summary>
    public PrometheusText Family(string name, string type, string help)
    {
        CheckName(name);
        if (type is not ("counter" or "gauge" or "untyped"))
        {
            throw new ArgumentException($"metric type '{type}' is not counter, gauge or untyped", nameof(type));
        }

        if (_families.Add(name))
        {
            _text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(help)).Append('\n');
            _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        }

        return this;
    }

    public PrometheusText Sample(string name, double value, params (string Name, string Value)[] labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (!_families.Contains(name))
        {
            throw new InvalidOperationException($"metric {name} has no family (call Family first)");
        }

        _text.Append(name);
        if (labels.Length > 0)
        {
            _text.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                CheckName(labels[i].Name);
                if (i > 0)
                {
                    _text.Append(',');
                }

                _text.Append(labels[i].Name).Append("=\"").Append(EscapeLabel(labels[i].Value)).Append('"');
            }

            _text.Append('}');
        }

        _text.Append(' ').Append(FormatValue(value)).Append('\n');
        return this;
    }

    public override string ToString() => _text.ToString();

    internal static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string EscapeLabel(string value)
        => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string value)
        => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static void CheckName(string name)
    {
        var ok = !string.IsNullOrEmpty(name)
            && (char.IsAsciiLetter(name[0]) || name[0] is '_' or ':')
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':');
        if (!ok)
        {
            throw new ArgumentException($"'{name}' is not a valid Prometheus metric or label name", nameof(name));
        }
    }
}
