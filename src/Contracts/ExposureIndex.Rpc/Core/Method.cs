namespace ExposureIndex.Rpc.Core;

/// <summary>
/// Describes one gRPC method: its shape, names and marshallers. The HTTP/2 path is
/// <c>/{ServiceName}/{Name}</c> (PROTOCOL-HTTP2 "Path").
/// </summary>
public sealed class Method<TRequest, TResponse>
{
    /// <summary>Creates a method descriptor.</summary>
    public Method(MethodType type, string serviceName, string name, Marshaller<TRequest> requestMarshaller, Marshaller<TResponse> responseMarshaller)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(requestMarshaller);
        ArgumentNullException.ThrowIfNull(responseMarshaller);
        if (serviceName.Contains('/', StringComparison.Ordinal) || name.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Service '{serviceName}' and method '{name}' must not contain '/'.", nameof(name));
        }

        Type = type;
        ServiceName = serviceName;
        Name = name;
        RequestMarshaller = requestMarshaller;
        ResponseMarshaller = responseMarshaller;
        FullName = "/" + serviceName + "/" + name;
    }

    /// <summary>The method's shape.</summary>
    public MethodType Type { get; }

    /// <summary>Fully qualified service name, e.g. <c>exposure.v1.Ingest</c>.</summary>
    public string ServiceName { get; }

    /// <summary>Method name, e.g. <c>Publish</c>.</summary>
    public string Name { get; }

    /// <summary>The HTTP/2 <c>:path</c>, e.g. <c>/exposure.v1.Ingest/Publish</c>.</summary>
    public string FullName { get; }

    /// <summary>Marshaller of request messages.</summary>
    public Marshaller<TRequest> RequestMarshaller { get; }

    /// <summary>Marshaller of response messages.</summary>
    public Marshaller<TResponse> ResponseMarshaller { get; }

    /// <inheritdoc />
    public override string ToString() => FullName;
}
