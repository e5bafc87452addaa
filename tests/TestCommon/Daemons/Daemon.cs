using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// A real Debian daemon started for a test (GUIDE.md §5): its own temp dir (config, pid file, logs, data), bound
/// only to one private 127.x.y.z address, started in the foreground so we own exactly its pid, polled until ready,
/// stopped by signalling that pid (then SIGKILL after a grace period), temp dir deleted.
/// </summary>
/// <remarks>
/// A subclass writes its config in <see cref="PrepareAsync"/>, gives its command line in <see cref="CreateCommand"/>
/// and may refine readiness, the stop signal, its log files, or name a pid file if it insists on forking.
/// Set EXPOSUREINDEX_KEEP_DAEMON_DIRS=1 to keep temp dirs for debugging.
/// </remarks>
public abstract class Daemon : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<Daemon, byte> Live = new();
    private static int _exitHookInstalled;
    private readonly string _kind;
    private DaemonProcess? _process;
    private int _disposed;

    /// <param name="kind">Short name for paths and messages ("redis").</param>
    /// <param name="identity">Version truth of the installed binary.</param>
    /// <param name="options">Address, port, timeouts.</param>
    /// <param name="wellKnownPort">The service's usual port, used by default when it can be bound.</param>
    protected Daemon(string kind, DaemonIdentity identity, DaemonOptions? options, int wellKnownPort)
    {
        ArgumentNullException.ThrowIfNull(identity);
        _kind = kind;
        Identity = identity;
        Options = options ?? DaemonOptions.Default;
        Address = Options.Address ?? Loopback.NextAddress();
        if (Address.AddressFamily != AddressFamily.InterNetwork || !IPAddress.IsLoopback(Address))
        {
            throw new ArgumentException($"Daemons bind only private IPv4 loopback addresses (127.0.0.0/8), not {Address}.", nameof(options));
        }

        Port = Options.Port ?? PickPort(Address, wellKnownPort, ProtocolType.Tcp);
        TempDirectory = Directory.CreateTempSubdirectory($"exposureindex-{kind}-").FullName;
        InstallExitHook();
    }

    public DaemonIdentity Identity { get; }

    /// <summary>The product name a fingerprinter should report ("OpenSSH", "nginx").</summary>
    public string Product => Identity.Product;

    /// <summary>The upstream version the daemon shows on the wire ("9.2p1"), read from the installed system.</summary>
    public string Version => Identity.Version;

    /// <summary>Debian's package version ("1:9.2p1-2+deb12u10").</summary>
    public string PackageVersion => Identity.PackageVersion;

    public IPAddress Address { get; }

    public int Port { get; }

    public IPEndPoint EndPoint => new(Address, Port);

    /// <summary>This daemon's private directory; deleted on dispose.</summary>
    public string TempDirectory { get; }

    /// <summary>The daemon's pid (valid once started).</summary>
    public int Pid => _process?.Pid ?? throw new InvalidOperationException($"{_kind} has not been started.");

    public bool IsRunning => _process is { HasExited: false } && Volatile.Read(ref _disposed) == 0;

    /// <summary>File that receives the daemon's stdout and stderr.</summary>
    public string StdioLogPath => PathIn("stdio.log");

    protected DaemonOptions Options { get; }

    /// <summary>Log files (besides stdio) whose tails help explain a failure.</summary>
    protected virtual IEnumerable<string> LogFiles => [];

    /// <summary>The signal that asks this daemon to shut down quickly.</summary>
    protected virtual int StopSignal => UnixSignals.Term;

    /// <summary>For a daemon that forks away from its launcher: the pid file to adopt the real pid from.</summary>
    protected virtual string? DaemonizedPidFile => null;

    public override string ToString() => $"{_kind} ({Product} {Version}) on {Address}:{Port}" + (_process is null ? string.Empty : $", pid {_process.Pid}");

    /// <summary>Tail of the daemon's stdio and log files, for failure messages.</summary>
    public string LogTail(int lines = 30)
    {
        var sb = new StringBuilder();
        foreach (var file in LogFiles.Prepend(StdioLogPath).Distinct(StringComparer.Ordinal))
        {
            var tail = DaemonProcess.ReadTail(file, lines);
            if (tail.Length > 0)
            {
                sb.Append("--- ").Append(Path.GetFileName(file)).Append(" (last ").Append(lines).Append(" lines) ---\n").Append(tail).Append('\n');
            }
        }

        return sb.Length == 0 ? "(the daemon logged nothing)" : sb.ToString().TrimEnd();
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncCore().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Stops exactly the daemon's pid and deletes its temp dir. Safe to call twice.</summary>
    protected virtual async ValueTask DisposeAsyncCore()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (_process is not null)
            {
                await _process.StopAsync(StopSignal, Options.StopGrace).ConfigureAwait(false);
                _process.Dispose();
            }
        }
        finally
        {
            Live.TryRemove(this, out _);
            DeleteTempDirectory();
        }
    }

    /// <summary>Path of <paramref name="name"/> inside this daemon's temp dir.</summary>
    protected string PathIn(string name) => Path.Combine(TempDirectory, name);

    /// <summary>Writes config files, keys, data directories. Runs within the start timeout.</summary>
    protected abstract Task PrepareAsync(CancellationToken cancellationToken);

    /// <summary>The foreground command line.</summary>
    protected abstract DaemonCommand CreateCommand();

    /// <summary>One readiness probe; polled until true. Default: a TCP connect to <see cref="EndPoint"/>.</summary>
    protected virtual Task<bool> IsReadyAsync(CancellationToken cancellationToken)
        => WireProbe.TryConnectAsync(EndPoint, TimeSpan.FromSeconds(1), cancellationToken);

    /// <summary>True when the stdio log (or <paramref name="file"/>) contains <paramref name="marker"/>.</summary>
    protected bool LogContains(string marker, string? file = null)
        => DaemonProcess.ReadTail(file ?? StdioLogPath, 400).Contains(marker, StringComparison.Ordinal);

    /// <summary>
    /// Runs <see cref="PrepareAsync"/>, starts the command and polls readiness, all within the start timeout. On any
    /// failure the daemon is stopped, its temp dir removed, and a <see cref="DaemonStartException"/> names the
    /// reason with the tail of its logs. Subclasses call this from their static StartAsync.
    /// </summary>
    protected async Task LaunchAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Options.StartTimeout);
        try
        {
            try
            {
                await PrepareAsync(cts.Token).ConfigureAwait(false);
                var command = CreateCommand();
                _process = DaemonProcess.Start(command, StdioLogPath, TempDirectory);
                Live.TryAdd(this, 0);
                if (DaemonizedPidFile is { } pidFile)
                {
                    await AdoptAsync(command, pidFile, cts.Token).ConfigureAwait(false);
                }

                while (true)
                {
                    if (_process.HasExited)
                    {
                        throw new DaemonStartException($"{this} exited{ExitCodeText()} before it was ready.\ncommand: {command}\n{LogTail()}");
                    }

                    if (await IsReadyAsync(cts.Token).ConfigureAwait(false))
                    {
                        return;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(50), cts.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new DaemonStartException($"{this} was not ready within {Options.StartTimeout.TotalSeconds:0.#} s (waited {clock.Elapsed.TotalSeconds:0.#} s).\n{LogTail()}");
            }
            catch (Exception e) when (e is not DaemonStartException and not OperationCanceledException)
            {
                throw new DaemonStartException($"{this} could not be started: {e.Message}\n{LogTail()}", e);
            }
        }
        catch (Exception startError)
        {
            try
            {
                await DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception cleanupError) when (cleanupError is not OperationCanceledException)
            {
                throw new DaemonStartException($"{startError.Message}\nCleaning up after that failed too: {cleanupError.Message}", startError);
            }

            throw;
        }
    }

    /// <summary>
    /// A fresh address has nothing bound, so the well-known port is normally free; it is not when we are not root
    /// (ports below 1024) or when some service listens on 0.0.0.0 with that port.
    /// </summary>
    protected static int PickPort(IPAddress address, int wellKnownPort, ProtocolType protocol)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (wellKnownPort > 0 && CanBind(address, wellKnownPort, protocol))
        {
            return wellKnownPort;
        }

        return protocol == ProtocolType.Udp ? Loopback.FreeUdpPort(address) : Loopback.FreeTcpPort(address);
    }

    /// <summary>Makes <paramref name="path"/> and everything below it owned by <paramref name="user"/> (root only; no-op otherwise).</summary>
    protected static async Task ChownAsync(string path, string user, CancellationToken cancellationToken)
    {
        if (Posix.IsRoot)
        {
            (await Tool.RunAsync(new DaemonCommand("chown", ["-R", $"{user}:", path]), TimeSpan.FromSeconds(30), cancellationToken: cancellationToken).ConfigureAwait(false)).EnsureSuccess();
        }
    }

    /// <summary>rwxr-xr-x: lets a daemon's unprivileged workers traverse or read what root created.</summary>
    protected const UnixFileMode WorldReadable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>chmod; the fixtures only run on Linux.</summary>
    protected static void SetUnixMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>True when the tests run as root (daemons that refuse root then need a user switch).</summary>
    protected static bool RunningAsRoot => Posix.IsRoot;

    private static bool CanBind(IPAddress address, int port, ProtocolType protocol)
    {
        try
        {
            using var socket = protocol == ProtocolType.Udp
                ? new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
                : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void InstallExitHook()
    {
        if (Interlocked.Exchange(ref _exitHookInstalled, 1) == 0)
        {
            // Last resort when a test forgot to dispose or the run is torn down: never leave daemons behind.
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                foreach (var daemon in Live.Keys)
                {
                    try
                    {
                        daemon._process?.KillNow();
                        daemon.DeleteTempDirectory();
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
                    {
                        // Best effort at process exit; nothing left to report to.
                    }
                }
            };
        }
    }

    private async Task AdoptAsync(DaemonCommand command, string pidFile, CancellationToken cancellationToken)
    {
        var launcher = _process!;
        if (!await launcher.WaitForExitAsync(Options.StartTimeout, cancellationToken).ConfigureAwait(false) || launcher.ExitCode != 0)
        {
            throw new DaemonStartException($"{this}: the launcher of a forking daemon did not exit cleanly{ExitCodeText()}.\ncommand: {command}\n{LogTail()}");
        }

        while (true)
        {
            if (DaemonProcess.TryAdopt(pidFile, StdioLogPath, command.ToString()) is { } adopted)
            {
                _process = adopted;
                launcher.Dispose();
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
        }
    }

    private string ExitCodeText() => _process?.ExitCode is { } code ? $" with code {code}" : string.Empty;

    private void DeleteTempDirectory()
    {
        if (Environment.GetEnvironmentVariable("EXPOSUREINDEX_KEEP_DAEMON_DIRS") == "1")
        {
            return;
        }

        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                if (Directory.Exists(TempDirectory))
                {
                    Directory.Delete(TempDirectory, recursive: true);
                }

                return;
            }
            catch (Exception e) when (attempt < 2 && e is IOException or UnauthorizedAccessException)
            {
                // A child that just died may still be writing a file in there; give it a moment.
                Thread.Sleep(50);
            }
        }
    }
}
