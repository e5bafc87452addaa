using System.CommandLine;
using System.Net;
using ExposureIndex.Cli.Hosting;
using ExposureIndex.Storage;

namespace ExposureIndex.Cli.Commands;

/// <summary>Options shared by several commands, with the same names and defaults everywhere.</summary>
internal static class CommonOptions
{
    public const string DefaultHttp = "127.0.0.1:8780";
    public const string DefaultGrpc = "127.0.0.1:8781";
    public const string DefaultData = "./data";

    public static Option<string> Data() => new("--data", "-d")
    {
        Description = "Directory of the embedded store (and of the generated API key)",
        DefaultValueFactory = _ => DefaultData,
    };

    public static Option<string?> Store() => new("--store")
    {
        Description = "Store location: embedded:DIR (default: embedded:<--data>) or http(s)://elasticsearch:9200",
    };

    public static Option<string> Http() => new("--http")
    {
        Description = "ADDR:PORT of the REST API and web UI",
        DefaultValueFactory = _ => DefaultHttp,
    };

    public static Option<string> Grpc() => new("--grpc")
    {
        Description = "ADDR:PORT of the gRPC Ingest service (HTTP/2 only, its own port)",
        DefaultValueFactory = _ => DefaultGrpc,
    };

    public static Option<string?> ApiKey() => new("--api-key")
    {
        Description = "API key (default: $EXPOSURE_API_KEY, else the key file in --data, created on first serve)",
    };

    public static Option<string?> ApiUrl() => new("--api-url")
    {
        Description = $"Base URL of a running SearchApi (default: $EXPOSURE_API_URL, else http://{DefaultHttp})",
    };

    public static Option<string?> GeoIp() => new("--geoip")
    {
        Description = "MaxMind-format City or Country .mmdb for location enrichment",
    };

    public static Option<string?> Asn() => new("--asn")
    {
        Description = "MaxMind-format ASN or ISP .mmdb for network-owner enrichment",
    };

    public static Option<bool> ReverseDns() => new("--rdns")
    {
        Description = "Fill hostnames and domains by reverse DNS (off by default: it sends PTR queries to a resolver; loopback and private addresses are never looked up)",
    };

    public static Option<string?> Resolver() => new("--resolver")
    {
        Description = "DNS resolver ADDR[:PORT] for --rdns (default: the first nameserver in /etc/resolv.conf)",
    };

    public static ServeOptions BuildServe(ParseResult parse, Option<string> data, Option<string?> store, Option<string> http, Option<string> grpc, Option<string?> apiKey, Option<string?> geoIp, Option<string?> asn, Option<bool> rdns, Option<string?> resolver, bool quiet)
    {
        var errors = new List<string>();
        var dataDir = parse.GetValue(data) ?? DefaultData;
        var storeText = parse.GetValue(store) ?? "embedded:" + dataDir;
        if (!StoreLocation.TryParse(storeText, out var location, out var storeError))
        {
            errors.Add("--store: " + storeError);
        }

        if (!EndpointText.TryParse(parse.GetValue(http) ?? DefaultHttp, out var httpEndpoint, out var httpError))
        {
            errors.Add("--http: " + httpError);
        }

        if (!EndpointText.TryParse(parse.GetValue(grpc) ?? DefaultGrpc, out var grpcEndpoint, out var grpcError))
        {
            errors.Add("--grpc: " + grpcError);
        }

        IPEndPoint? resolverEndpoint = null;
        if (parse.GetValue(resolver) is { } resolverText)
        {
            if (IPEndPoint.TryParse(resolverText, out var parsedResolver))
            {
                resolverEndpoint = parsedResolver.Port == 0 ? new IPEndPoint(parsedResolver.Address, 53) : parsedResolver;
            }
            else
            {
                errors.Add($"--resolver: '{resolverText}' is not ADDR or ADDR:PORT");
            }
        }

        if (errors.Count > 0)
        {
            throw new CliException(string.Join("; ", errors), 2);
        }

        var options = new ServeOptions
        {
            DataDirectory = dataDir,
            Store = location!,
            Http = httpEndpoint,
            Grpc = grpcEndpoint,
            ApiKeys = [ApiKeys.ForServer(parse.GetValue(apiKey), dataDir)],
            GeoIpDatabase = parse.GetValue(geoIp),
            AsnDatabase = parse.GetValue(asn),
            ReverseDns = parse.GetValue(rdns),
            Resolver = resolverEndpoint,
            Quiet = quiet,
        };
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new CliException(string.Join("; ", problems), 2);
        }

        return options;
    }

    public static Uri ResolveApiUrl(string? given)
    {
        var text = given ?? Environment.GetEnvironmentVariable("EXPOSURE_API_URL") ?? "http://" + DefaultHttp;
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException($"--api-url '{text}' is not an http(s) URL", 2);
        }

        return uri;
    }

    public static string DisplayHost(IPEndPoint endpoint) => endpoint.ToString();
}

/// <summary>The options `serve` and `demo` share (same names, defaults and validation), added to a command as one set.</summary>
internal sealed class ServeOptionSet
{
    private readonly Option<string> _data = CommonOptions.Data();
    private readonly Option<string?> _store = CommonOptions.Store();
    private readonly Option<string> _http = CommonOptions.Http();
    private readonly Option<string> _grpc = CommonOptions.Grpc();
    private readonly Option<string?> _apiKey = CommonOptions.ApiKey();
    private readonly Option<string?> _geoIp = CommonOptions.GeoIp();
    private readonly Option<string?> _asn = CommonOptions.Asn();
    private readonly Option<bool> _rdns = CommonOptions.ReverseDns();
    private readonly Option<string?> _resolver = CommonOptions.Resolver();

    public void AddTo(Command command)
    {
        foreach (var option in (Option[])[_data, _store, _http, _grpc, _apiKey, _geoIp, _asn, _rdns, _resolver])
        {
            command.Options.Add(option);
        }
    }

    public ServeOptions Build(ParseResult parse, bool quiet = false)
        => CommonOptions.BuildServe(parse, _data, _store, _http, _grpc, _apiKey, _geoIp, _asn, _rdns, _resolver, quiet);
}
