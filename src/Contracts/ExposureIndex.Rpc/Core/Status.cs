using System.Globalization;

namespace ExposureIndex.Rpc.Core;

/// <summary>The outcome of a call: a <see cref="Core.StatusCode"/> and a human-readable detail.</summary>
public readonly record struct Status(StatusCode StatusCode, string Detail)
{
    /// <summary>The status of a call that succeeded.</summary>
    public static Status DefaultSuccess { get; } = new(StatusCode.OK, string.Empty);

    /// <summary>The status of a call cancelled by its caller.</summary>
    public static Status DefaultCancelled { get; } = new(StatusCode.Cancelled, string.Empty);

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"Status(StatusCode=\"{StatusCode}\", Detail=\"{Detail}\")");
}
