using System.Collections.Concurrent;
using System.Net;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Some daemons (named, ntpd, smbd) bind only addresses they find on an interface, and Linux routes all of
/// 127.0.0.0/8 to lo without listing each address. For those, this puts the test address on lo as a /32 for the
/// daemon's lifetime (`ip addr add 127.x.y.z/32 dev lo`) and takes it off again on dispose, or at process exit if a
/// test forgot. A test process killed outright cannot clean up, so each alias is also recorded with its owner's pid
/// under the temp dir, and the next <see cref="AddAsync"/> removes aliases whose owner is gone. Root only: without it
/// the daemon fixture skips. Only 127.0.0.0/8 addresses are ever touched.
/// </summary>
public sealed class LoopbackAlias : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<string, byte> Added = new(StringComparer.Ordinal);
    private static int _exitHookInstalled;
    private readonly bool _owned;
    private int _disposed;

    private LoopbackAlias(IPAddress address, bool owned)
    {
        Address = address;
        _owned = owned;
    }

    public IPAddress Address { get; }

    /// <summary>Makes <paramref name="address"/> an address of lo (a no-op when it already is one).</summary>
    public static async Task<LoopbackAlias> AddAsync(IPAddress address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!IPAddress.IsLoopback(address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"Only 127.0.0.0/8 addresses go on lo, not {address}.", nameof(address));
        }

        var ip = Requires.Executable("ip", "iproute2");
        if (!Posix.IsRoot)
        {
            Requires.SkipOrFail($"this daemon binds only interface addresses, and putting {address} on lo needs root");
        }

        await SweepOrphansAsync(ip, cancellationToken).ConfigureAwait(false);
        if (await IsOnLoAsync(ip, address, cancellationToken).ConfigureAwait(false))
        {
            return new LoopbackAlias(address, owned: false);
        }

        InstallExitHook();
        Directory.CreateDirectory(RegistryDirectory);
        // Written aside and renamed into place: another process's orphan sweep must never read it empty.
        var pending = Path.Combine(RegistryDirectory, $".pending-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(pending, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        File.Move(pending, RegistryFile(address.ToString()), overwrite: true);
        (await Tool.RunAsync(new DaemonCommand(ip, ["addr", "add", $"{address}/32", "dev", "lo"]), TimeSpan.FromSeconds(20), cancellationToken: cancellationToken).ConfigureAwait(false)).EnsureSuccess();
        Added.TryAdd(address.ToString(), 0);
        return new LoopbackAlias(address, owned: true);
    }

    /// <summary>Where each alias we add is recorded with the pid of the test process that owns it.</summary>
    private static string RegistryDirectory => Path.Combine(Path.GetTempPath(), "exposureindex-lo-aliases");

    private static string RegistryFile(string address) => Path.Combine(RegistryDirectory, address);

    /// <summary>Removes aliases recorded by test processes that no longer run (killed before they could clean up).</summary>
    private static async Task SweepOrphansAsync(string ip, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(RegistryDirectory))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(RegistryDirectory).Take(1000).ToList())
        {
            var name = Path.GetFileName(file);
            if (!IPAddress.TryParse(name, out var recorded) || !IPAddress.IsLoopback(recorded))
            {
                continue;
            }

            string text;
            try
            {
                text = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                continue;
            }

            if (int.TryParse(text.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var owner) && owner > 1 && Posix.IsAlive(owner))
            {
                continue;
            }

            await Tool.RunAsync(new DaemonCommand(ip, ["addr", "del", $"{recorded}/32", "dev", "lo"]), TimeSpan.FromSeconds(20), cancellationToken: cancellationToken).ConfigureAwait(false);
            File.Delete(file);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || !_owned)
        {
            return;
        }

        var ip = Requires.Which("ip");
        if (ip is not null)
        {
            await Tool.RunAsync(new DaemonCommand(ip, ["addr", "del", $"{Address}/32", "dev", "lo"]), TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        }

        Added.TryRemove(Address.ToString(), out _);
        File.Delete(RegistryFile(Address.ToString()));
    }

    private static async Task<bool> IsOnLoAsync(string ip, IPAddress address, CancellationToken cancellationToken)
    {
        var shown = await Tool.RunAsync(new DaemonCommand(ip, ["-o", "-4", "addr", "show", "dev", "lo"]), TimeSpan.FromSeconds(20), cancellationToken: cancellationToken).ConfigureAwait(false);
        return shown.StandardOutput.Split('\n').Any(line => line.Contains($" inet {address}/", StringComparison.Ordinal));
    }

    private static void InstallExitHook()
    {
        if (Interlocked.Exchange(ref _exitHookInstalled, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                var ip = Requires.Which("ip");
                foreach (var address in Added.Keys)
                {
                    try
                    {
                        if (ip is not null)
                        {
                            Tool.Run(ip, ["addr", "del", $"{address}/32", "dev", "lo"], TimeSpan.FromSeconds(5));
                        }

                        File.Delete(RegistryFile(address));
                    }
                    catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or System.ComponentModel.Win32Exception)
                    {
                        // Best effort at process exit.
                    }
                }
            };
        }
    }
}
