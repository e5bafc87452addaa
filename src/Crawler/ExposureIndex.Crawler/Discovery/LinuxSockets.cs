using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ExposureIndex.Crawler.Discovery;

/// <summary>
/// The few Linux socket calls the epoll connect engine makes directly (socket(2), connect(2), epoll(7),
/// getsockopt(2), close(2)): at hundreds of thousands of attempts per second, the runtime's per-socket async
/// machinery (a SafeHandle, an epoll registration through its event thread, an exception per refused connect)
/// costs more than the connect itself. Errno values are Linux's (asm-generic/errno.h).
/// </summary>
internal static class LinuxSockets
{
    public const int AfInet = 2;
    public const int AfInet6 = 10;
    public const int SockStream = 1;
    public const int SockNonBlock = 0x800;
    public const int SockCloexec = 0x80000;
    public const int SolSocket = 1;
    public const int SoError = 4;
    public const int SoLinger = 13;
    public const int EpollCloexec = 0x80000;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const int FGetFl = 3;
    public const int FSetFl = 4;
    public const int ONonBlock = 0x800;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;

    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int EMFile = 24;
    public const int ENFile = 23;
    public const int EAddrNotAvail = 99;
    public const int ENetDown = 100;
    public const int ENetUnreach = 101;
    public const int EConnReset = 104;
    public const int ENoBufs = 105;
    public const int ETimedOut = 110;
    public const int EConnRefused = 111;
    public const int EHostDown = 112;
    public const int EHostUnreach = 113;
    public const int EInProgress = 115;

    /// <summary>struct epoll_event is packed (12 bytes) on x86-64 only; elsewhere the 64-bit data is aligned (16).</summary>
    public static int EpollEventSize { get; } = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    /// <summary>What a connect's errno says about the target.</summary>
    public static PortState Classify(int errno) => errno switch
    {
        0 => PortState.Open,
        EConnRefused or EConnReset => PortState.Closed,
        ETimedOut => PortState.Filtered,
        ENetUnreach or EHostUnreach or EHostDown or ENetDown => PortState.Unreachable,
        _ => PortState.LocalError,
    };

    /// <summary>Writes a sockaddr_in or sockaddr_in6 for the target into <paramref name="buffer"/>; returns its length.</summary>
    public static int WriteSockaddr(Span<byte> buffer, AddressFamily family, UInt128 key, int port)
    {
        buffer[..28].Clear();
        if (family == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(buffer, AfInet);
            BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], (ushort)port);
            BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], (uint)key);
            return 16;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(buffer, AfInet6);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], (ushort)port);
        BinaryPrimitives.WriteUInt128BigEndian(buffer[8..], key);
        return 28;
    }

    public const int ClockThreadCpuTime = 3;

    /// <summary>CPU time (user + system) the calling thread has used, or null where it cannot be read.</summary>
    public static TimeSpan? ThreadCpuTime()
    {
        if (!OperatingSystem.IsLinux() || clock_gettime(ClockThreadCpuTime, out var spec) != 0)
        {
            return null;
        }

        return TimeSpan.FromTicks((spec.Seconds * TimeSpan.TicksPerSecond) + (spec.Nanoseconds / 100));
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int clock_gettime(int clock, out Timespec time);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int socket(int domain, int type, int protocol);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int connect(int fd, byte[] address, int length);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int getsockopt(int fd, int level, int name, ref int value, ref int length);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int setsockopt(int fd, int level, int name, byte[] value, int length);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int fcntl(int fd, int command, int argument);

    /// <summary>Closes with an RST (SO_LINGER on, 0 s: RFC 9293 §3.10.7.1 "abort"), leaving no TIME_WAIT behind.</summary>
    public static void Abort(int fd)
    {
        var linger = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(linger, 1);
        _ = setsockopt(fd, SolSocket, SoLinger, linger, linger.Length);
        _ = close(fd);
    }

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int epoll_create1(int flags);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int epoll_ctl(int epfd, int op, int fd, byte[] epollEvent);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int epoll_wait(int epfd, byte[] events, int maxEvents, int timeoutMs);
}
