using System.Globalization;
using ExposureIndex.Bench;
using ExposureIndex.Bench.FixtureCapture;

// Benchmarks for ExposureIndex. Usage: exposure-bench <name> [args]
var name = args.Length > 0 ? args[0] : "help";
switch (name)
{
    case "store-spike":
        StoreEngineSpike.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000, args.Length > 2 ? args[2] : Path.Combine(Path.GetTempPath(), "exposure-spike"));
        return 0;
    case "store-profile":
        await StoreProfile.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200_000);
        return 0;
    case "store":
        return await StoreBench.RunAsync(args[1..]);
    case "fingerprint":
        return await FingerprintBench.RunAsync(args[1..]);
    case "sweep":
        return await SweepBench.RunAsync(args[1..]);
    case "rpc":
        return await RpcBench.RunAsync(args[1..]);
    case "geoip":
        return await GeoIpBench.RunAsync(args[1..]);
    case "capture-tls-fixtures":
        return await TlsFixtureCapture.RunAsync(args[1..]);
    default:
        Console.Error.WriteLine("usage: ExposureIndex.Bench <store|store-spike|store-profile|fingerprint|sweep|rpc|geoip|capture-tls-fixtures> [args]  (see bench/README.md)");
        return 2;
}
