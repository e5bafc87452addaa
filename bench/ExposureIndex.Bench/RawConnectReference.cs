using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ExposureIndex.Bench;

/// <summary>
/// The reference for bench/sweep: the machine's raw connect() rate, as small as a program can be. Each thread
/// loops socket(SOCK_NONBLOCK) - connect() - (poll() if EINPROGRESS) - close() against closed ports on
/// loopback, straight through libc: no runtime socket layer, no async machinery, no permutation. Whatever a
/// connect scan adds on top of this is our overhead.
/// </summary>
internal static class RawConnectReference
{
    private const int AfInet = 2;
    private const int SockStream = 1;
    private const int SockNonBlock = 0x800;
    private const int SockCloexec = 0x80000;
    private const int EInProgress = 115;
    private const short PollOut = 4;

    /// <summary>Connects per second over <paramref name="duration"/> with <paramref name="threads"/> threads, each at most <paramref name="maxPerThread"/> attempts.</summary>
    public static (double PerSecond, long Attempts, long Refused) Measure(uint firstAddress, int addressCount, int firstPort, int portCount, int threads, TimeSpan duration, long maxPerThread)
    {
        if (firstAddress >> 24 != 127)
        {
            throw new ArgumentException("the reference only ever connects to loopback", nameof(firstAddress));
        }

        var attempts = new long[threads];
        var refused = new long[threads];
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var address = new byte[16];
            BinaryPrimitives.WriteUInt16LittleEndian(address, AfInet);
            var fds = new PollFd[1];
            var end = duration.Ticks;
            long n = 0;
            long closed = 0;
            // Bounded in count (maxPerThread) and time (duration).
            for (var i = (long)t; n < maxPerThread; i += threads)
            {
                if ((n & 63) == 0 && clock.Elapsed.Ticks >= end)
                {
                    break;
                }

                var host = firstAddress + (uint)(i % addressCount);
                var port = firstPort + (int)(i / addressCount % portCount);
                BinaryPrimitives.WriteUInt16BigEndian(address.AsSpan(2), (ushort)port);
                BinaryPrimitives.WriteUInt32BigEndian(address.AsSpan(4), host);
                var fd = Native.socket(AfInet, SockStream | SockNonBlock | SockCloexec, 0);
                if (fd < 0)
                {
                    throw new InvalidOperationException($"socket() failed: errno {Marshal.GetLastPInvokeError()}");
                }

                if (Native.connect(fd, address, 16) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == EInProgress)
                    {
                        fds[0] = new PollFd { Fd = fd, Events = PollOut };
                        _ = Native.poll(fds, 1, 1000);
                    }

                    closed++;
                }

                _ = Native.close(fd);
                n++;
            }

            attempts[t] = n;
            refused[t] = closed;
        }) { IsBackground = true, Name = $"raw-connect-{t}" }).ToList();

        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        var seconds = clock.Elapsed.TotalSeconds;
        return (attempts.Sum() / seconds, attempts.Sum(), refused.Sum());
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int socket(int domain, int type, int protocol);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int connect(int fd, byte[] address, int length);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int poll([In, Out] PollFd[] fds, ulong count, int timeoutMs);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int close(int fd);
    }
}
