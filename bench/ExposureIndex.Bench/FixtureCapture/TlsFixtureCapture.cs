using System.Globalization;
using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Http;
using ExposureIndex.Grabbers.Ssh;
using ExposureIndex.TestCommon;
using ExposureIndex.TestCommon.Daemons;
using TlsGrabberType = ExposureIndex.Grabbers.Tls.TlsGrabber;

namespace ExposureIndex.Bench.FixtureCapture;

/// <summary>
/// capture-tls-fixtures: re-captures the HTTP, TLS and SSH parser fixtures of
/// tests/ExposureIndex.Grabbers.Tests/Fixtures/{Http,Tls,Ssh} from the real Debian daemons (nginx, apache2, nginx
/// with TLS, OpenSSH), each started on its own loopback address. Each fixture is what one connection of a real grab
/// received, byte for byte. A developer tool, not a test: it writes files (to --out when given) and says, for each
/// one, whether it matches the committed fixture. Handshakes carry fresh randomness and per-run keys, so TLS and SSH
/// bytes always differ from the committed ones.
/// </summary>
internal static class TlsFixtureCapture
{
    private static readonly TimeSpan CaptureBound = TimeSpan.FromMinutes(3);

    private static readonly GrabLimits Limits = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ReadTimeout = TimeSpan.FromSeconds(5),
        TotalDeadline = TimeSpan.FromSeconds(60),
    };

    private static string CommittedRoot => Path.Combine(RepoPaths.Root, "tests", "ExposureIndex.Grabbers.Tests", "Fixtures");

    public static async Task<int> RunAsync(string[] args)
    {
        var outIndex = Array.IndexOf(args, "--out");
        var root = outIndex >= 0 && outIndex + 1 < args.Length ? Path.GetFullPath(args[outIndex + 1]) : CommittedRoot;
        var selected = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (outIndex < 0 || i != outIndex + 1)).Select(a => a.ToLowerInvariant()).ToHashSet();
        if (selected.Except(["http", "tls", "ssh"]).FirstOrDefault() is { } unknown)
        {
            Console.Error.WriteLine($"capture-tls-fixtures: unknown fixture set '{unknown}' (http, tls, ssh)");
            return 2;
        }

        var all = selected.Count == 0;
        Console.WriteLine($"capture-tls-fixtures: writing to {root}{(root == CommittedRoot ? " (the committed fixtures)" : string.Empty)}");
        var capture = new Capture(root);
        if (all || selected.Contains("http"))
        {
            await Bounded(capture.HttpFromNginxAndApacheAsync);
        }

        if (all || selected.Contains("tls"))
        {
            await Bounded(capture.TlsFromNginxAsync);
        }

        if (all || selected.Contains("ssh"))
        {
            await Bounded(capture.SshFromOpenSshAsync);
        }

        return 0;
    }

    private static async Task Bounded(Func<CancellationToken, Task> capture)
    {
        using var cts = new CancellationTokenSource(CaptureBound);
        await capture(cts.Token);
    }

    private sealed class Capture(string root)
    {
        public async Task HttpFromNginxAndApacheAsync(CancellationToken ct)
        {
            await using (var nginx = await NginxDaemon.StartAsync(title: "Welcome &amp; hello", cancellationToken: ct))
            {
                var network = new RecordingNetwork();
                await SucceedsAsync(new HttpGrabber(), nginx, network, tls: false, ct);
                await WriteAsync("Http", "nginx-index.bin", network.Received[0], ct);
                await WriteAsync("Http", "nginx-404.bin", network.Received[1], ct);
            }

            await using var apache = await ApacheDaemon.StartAsync(cancellationToken: ct);
            var apacheNetwork = new RecordingNetwork();
            await SucceedsAsync(new HttpGrabber(), apache, apacheNetwork, tls: false, ct);
            await WriteAsync("Http", "apache-index.bin", apacheNetwork.Received[0], ct);
            await WriteAsync("Http", "apache-404.bin", apacheNetwork.Received[1], ct);
        }

        public async Task TlsFromNginxAsync(CancellationToken ct)
        {
            await using var nginx = await NginxTlsDaemon.StartAsync(cancellationToken: ct);
            var network = new RecordingNetwork();
            await SucceedsAsync(new TlsGrabberType(), nginx, network, tls: true, ct);
            // Connections: 0 = full ClientHello (TLS 1.3 reply), 1 = SslStream, 2 = TLS 1.0 probe, 3 = TLS 1.1, 4 = TLS 1.2.
            await WriteAsync("Tls", "nginx-tls13-reply.bin", network.Received[0], ct);
            await WriteAsync("Tls", "nginx-tls10-alert.bin", network.Received[2], ct);
            await WriteAsync("Tls", "nginx-tls12-reply.bin", network.Received[4], ct);
        }

        public async Task SshFromOpenSshAsync(CancellationToken ct)
        {
            await using var sshd = await OpenSshDaemon.StartAsync(cancellationToken: ct);
            var network = new RecordingNetwork();
            var record = await SucceedsAsync(new SshGrabber(), sshd, network, tls: false, ct);
            await WriteAsync("Ssh", "openssh-transcript.bin", network.Received[0], ct);

            // The expected values come from an independent reading of the transcript (the committed Python script,
            // standard library only), never from the grabber the tests check; the grabber's view must agree with it.
            var dir = Directory.CreateDirectory(Path.Combine(root, "Ssh")).FullName;
            var script = Path.Combine(dir, "openssh-transcript.expected.py");
            if (!File.Exists(script))
            {
                File.Copy(Path.Combine(CommittedRoot, "Ssh", "openssh-transcript.expected.py"), script);
            }

            var run = await PythonScripts.RunProcessAsync(RepoPaths.SystemPython, [script], null, TimeSpan.FromSeconds(60));
            if (run.ExitCode != 0)
            {
                throw new InvalidOperationException($"{script} exited {run.ExitCode}:\n{run.Stderr}");
            }

            await WriteAsync("Ssh", "openssh-transcript.expected.txt", System.Text.Encoding.UTF8.GetBytes(run.Stdout), ct);
            var expected = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            var grabber = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["banner"] = record.Ssh.Banner,
                ["type"] = record.Ssh.Type,
                ["sha256"] = record.Ssh.FingerprintSha256,
                ["md5"] = record.Ssh.Fingerprint,
                ["hassh"] = record.Ssh.Hassh,
            };
            var disagree = grabber.Where(g => !expected.TryGetValue(g.Key, out var value) || value != g.Value).ToList();
            if (disagree.Count > 0)
            {
                throw new InvalidOperationException("the SSH grabber disagrees with the independent reading of the transcript: " +
                    string.Join("; ", disagree.Select(d => $"{d.Key}: grabber '{d.Value}', python '{expected.GetValueOrDefault(d.Key)}'")));
            }

            Console.WriteLine("  Ssh: the grabber's banner, key type, fingerprints and HASSH agree with the independent reading");
        }

        private static async Task<ServiceRecord> SucceedsAsync(IGrabber grabber, Daemon daemon, RecordingNetwork network, bool tls, CancellationToken ct)
        {
            var context = new GrabContext
            {
                Target = new GrabTarget(daemon.EndPoint.Address, daemon.EndPoint.Port, Transport.Tcp),
                Limits = Limits,
                Network = network,
                Tls = tls,
            };
            if (!IPAddress.IsLoopback(context.Target.Address))
            {
                throw new InvalidOperationException($"fixture capture only reaches loopback, not {context.Target.Address}");
            }

            using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bound.CancelAfter(TimeSpan.FromSeconds(90));
            var result = await grabber.GrabAsync(context, bound.Token);
            if (result.Outcome != GrabOutcome.Success)
            {
                throw new InvalidOperationException($"{grabber.GetType().Name} against {daemon.EndPoint}: {result.Outcome}: {result.Error}\n{daemon.LogTail()}");
            }

            return result.Fragment;
        }

        private async Task WriteAsync(string proto, string name, byte[] bytes, CancellationToken ct)
        {
            var path = Path.Combine(Directory.CreateDirectory(Path.Combine(root, proto)).FullName, name);
            var committed = Path.Combine(CommittedRoot, proto, name);
            var before = File.Exists(committed) ? await File.ReadAllBytesAsync(committed, ct) : null;
            await File.WriteAllBytesAsync(path, bytes, ct);
            var verdict = before is null ? "new (no committed fixture)"
                : before.AsSpan().SequenceEqual(bytes) ? "same bytes as committed"
                : string.Create(CultureInfo.InvariantCulture, $"differs from committed ({before.Length:N0} bytes committed)");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {proto}/{name}: {bytes.Length:N0} bytes, {verdict}"));
        }
    }
}
