using System.Collections.Concurrent;
using System.Net;
using ExposureIndex.GeoIp.Tests.Support;
using ExposureIndex.TestCommon;

namespace ExposureIndex.GeoIp.Tests;

public sealed class ReloadingGeoDatabaseTests : IDisposable
{
    private static readonly IPAddress Probe = IPAddress.Parse("81.2.69.160");
    private readonly string _directory = Directory.CreateTempSubdirectory("geoip-reload-").FullName;
    private readonly string _path;
    private readonly string _snapshots;

    public ReloadingGeoDatabaseTests()
    {
        _path = Path.Combine(_directory, "City.mmdb");
        _snapshots = Path.Combine(_directory, "snapshots");
        File.WriteAllBytes(_path, CityDatabase("AA"));
    }

    /// <summary>Records sit 64 KiB into the data section, so reading them touches pages a shrunk file no longer has.</summary>
    private static byte[] Padding => MmdbWriter.EncodeValue(new byte[64 * 1024]);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task CheckNow_ReplacedByRenameWhileLookupsRun_SwapsWithoutErrors()
    {
        using var geo = Open();
        Assert.Equal("AA", Country(geo));
        var errors = new ConcurrentQueue<Exception>();
        var seen = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        // The readers run until stopped (at most 30 s), not for a fixed count: on a loaded machine a count could run
        // out before the swap, and then no lookup would race it.
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    seen.AddOrUpdate(Country(geo), 1, (_, n) => n + 1);
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
            }
        })).ToArray();

        Assert.True(await Poll.UntilAsync(() => seen.ContainsKey("AA"), TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        ReplaceByRename(CityDatabase("BB"));
        Assert.Equal(GeoReloadOutcome.Settling, geo.CheckNow());
        Assert.Equal(GeoReloadOutcome.Reloaded, geo.CheckNow());
        Assert.True(await Poll.UntilAsync(() => seen.ContainsKey("BB"), TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

        await stop.CancelAsync();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Empty(errors);
        Assert.Equal(2, geo.Generation);
        Assert.Equal("BB", Country(geo));
        Assert.Equal(GeoReloadOutcome.Unchanged, geo.CheckNow());

        // The private copies were unlinked once mapped.
        Assert.Empty(Directory.GetFiles(_snapshots));
    }

    [Fact]
    public async Task CheckNow_InFlightLookupDuringSwap_KeepsTheOldDatabaseUntilItEnds()
    {
        using var geo = Open();
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        GeoDatabase? old = null;
        string? answerAfterSwap = null;
        var lookup = Task.Run(() => geo.Use(db =>
        {
            old = db;
            inside.Set();
            release.Wait(TimeSpan.FromSeconds(30));

            // The swap has happened, yet this lease still reads the old, undisposed database.
            db.TryGetLocation(Probe, out var location);
            answerAfterSwap = location?.CountryCode;
            return 0;
        }));

        Assert.True(inside.Wait(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        ReplaceByRename(CityDatabase("BB"));
        Assert.Equal(GeoReloadOutcome.Reloaded, geo.ReloadNow());
        Assert.Equal("BB", Country(geo));
        Assert.NotNull(old);
        Assert.True(old.TryGetLocation(Probe, out _), "old database was disposed while a lease was held");

        release.Set();
        await lookup.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal("AA", answerAfterSwap);

        // The last lease released it: now it is disposed.
        Assert.Throws<ObjectDisposedException>(() => old.TryGetLocation(Probe, out _));
    }

    [Fact]
    public void CheckNow_CorruptReplacement_IsRefusedAndTheOldDatabaseKeepsAnswering()
    {
        using var geo = Open();
        var failures = new List<GeoDatabaseReloadFailedEventArgs>();
        var reloads = 0;
        geo.ReloadFailed += (_, e) => failures.Add(e);
        geo.Reloaded += (_, _) => reloads++;

        var corrupt = CityDatabase("BB");
        corrupt[corrupt.Length - 20] ^= 0xFF;
        Array.Resize(ref corrupt, corrupt.Length - 7);
        ReplaceByRename(corrupt);

        Assert.Equal(GeoReloadOutcome.Settling, geo.CheckNow());
        Assert.Equal(GeoReloadOutcome.Rejected, geo.CheckNow());
        Assert.IsType<MmdbFormatException>(Assert.Single(failures).Error);
        Assert.Equal(_path, failures[0].Path);
        Assert.Equal("AA", Country(geo));
        Assert.Equal(1, geo.Generation);

        // The same bad file is not retried (one error, not one per poll)...
        Assert.Equal(GeoReloadOutcome.Unchanged, geo.CheckNow());
        Assert.Single(failures);

        // ...but a good file after it is loaded.
        ReplaceByRename(CityDatabase("CC"));
        geo.CheckNow();
        Assert.Equal(GeoReloadOutcome.Reloaded, geo.CheckNow());
        Assert.Equal("CC", Country(geo));
        Assert.Equal(1, reloads);
    }

    [Fact]
    public void CheckNow_ReplacementFailingVerify_IsRefused()
    {
        using var geo = Open();
        var failures = new List<Exception>();
        geo.ReloadFailed += (_, e) => failures.Add(e.Error);

        // Opens fine (valid metadata), but a record points past the data section: only Verify sees it.
        var writer = new MmdbWriter(6, 24) { DatabaseType = "GeoIP2-City" };
        writer.Insert("0.0.0.0/1", new Raw([.. MmdbWriter.EncodePointer(1_000_000, 3)]));
        ReplaceByRename(writer.Build());

        Assert.Equal(GeoReloadOutcome.Rejected, geo.ReloadNow());
        Assert.Contains("outside the data section", Assert.Single(failures).Message, StringComparison.Ordinal);
        Assert.Equal("AA", Country(geo));
    }

    [Fact]
    public async Task CheckNow_InPlaceOverwriteWhileLookupsRun_NeverFaultsAndLoadsTheResult()
    {
        using var geo = Open();
        var errors = new ConcurrentQueue<Exception>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var lookups = 0L;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    Country(geo);
                    Interlocked.Increment(ref lookups);
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
            }
        }, TestContext.Current.CancellationToken);

        // Shrink the served file in place, then rewrite it in place. A reader that mapped this very file
        // would fault (SIGBUS) on the vanished pages; ours maps a private copy.
        await using (var stream = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            stream.SetLength(10);
        }

        Assert.Equal(GeoReloadOutcome.Settling, geo.CheckNow());
        Assert.Equal(GeoReloadOutcome.Rejected, geo.CheckNow());
        Assert.Equal("AA", Country(geo));

        await File.WriteAllBytesAsync(_path, CityDatabase("DD"), TestContext.Current.CancellationToken);
        geo.CheckNow();
        Assert.Equal(GeoReloadOutcome.Reloaded, geo.CheckNow());
        Assert.True(await Poll.UntilAsync(() => Interlocked.Read(ref lookups) > 1000, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

        await stop.CancelAsync();
        await reader.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Empty(errors);
        Assert.Equal("DD", Country(geo));
    }

    [Fact]
    public void CheckNow_FileMissingBetweenDeleteAndRename_KeepsServing()
    {
        using var geo = Open();
        File.Delete(_path);

        Assert.Equal(GeoReloadOutcome.Missing, geo.CheckNow());
        Assert.Equal("AA", Country(geo));

        ReplaceByRename(CityDatabase("EE"));
        Assert.Equal(GeoReloadOutcome.Settling, geo.CheckNow());
        Assert.Equal(GeoReloadOutcome.Reloaded, geo.CheckNow());
        Assert.Equal("EE", Country(geo));
    }

    [Fact]
    public async Task Timer_ReplacementByRename_IsPickedUpWithoutACall()
    {
        using var geo = ReloadingGeoDatabase.Open(_path, new ReloadingGeoDatabaseOptions
        {
            PollInterval = TimeSpan.FromMilliseconds(50),
            SnapshotDirectory = _snapshots,
        });
        var reloaded = new TaskCompletionSource<GeoDatabaseReloadedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        geo.Reloaded += (_, e) => reloaded.TrySetResult(e);

        ReplaceByRename(CityDatabase("FF"));

        var args = await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal(2, args.Generation);
        Assert.Equal("GeoIP2-City", args.Metadata.DatabaseType);
        Assert.Equal("FF", Country(geo));
    }

    [Fact]
    public void Open_CorruptInitialFile_Throws()
    {
        File.WriteAllBytes(_path, [1, 2, 3]);

        Assert.Throws<MmdbFormatException>(() => Open());
        Assert.Throws<FileNotFoundException>(() => ReloadingGeoDatabase.Open(Path.Combine(_directory, "absent.mmdb")));
    }

    [Fact]
    public void Open_InvalidOptions_ReportsEveryProblem()
    {
        var options = new ReloadingGeoDatabaseOptions
        {
            PollInterval = TimeSpan.Zero,
            Database = new GeoDatabaseOptions { CacheSize = -1 },
        };

        Assert.Equal(2, options.Validate().Count);
        var error = Assert.Throws<ArgumentException>(() => ReloadingGeoDatabase.Open(_path, options));
        Assert.Contains("PollInterval", error.Message, StringComparison.Ordinal);
        Assert.Contains("CacheSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dispose_ThenLookup_ThrowsObjectDisposed()
    {
        var geo = Open();
        geo.Dispose();
        geo.Dispose();

        Assert.Throws<ObjectDisposedException>(() => geo.TryGetLocation(Probe, out _));
        Assert.Equal(GeoReloadOutcome.Unchanged, geo.CheckNow());
    }

    [Fact]
    public void TryGetNetworkOwner_AsnDatabase_ServedThroughTheReloader()
    {
        var path = Path.Combine(_directory, "ASN.mmdb");
        File.Copy(TestData.File("GeoLite2-ASN-Test.mmdb"), path);
        using var geo = ReloadingGeoDatabase.Open(path, new ReloadingGeoDatabaseOptions { SnapshotDirectory = _snapshots });

        Assert.Equal(GeoDatabaseKind.Asn, geo.Kind);
        Assert.True(geo.TryGetNetworkOwner(IPAddress.Parse("1.128.0.0"), out var owner));
        Assert.Equal("AS1221", owner.Asn);
        Assert.False(geo.TryGetLocation(IPAddress.Parse("1.128.0.0"), out _));
    }

    private static string Country(IGeoLookup geo) =>
        geo.TryGetLocation(Probe, out var location) ? location.CountryCode ?? "(none)" : "(miss)";

    private static byte[] CityDatabase(string countryCode)
    {
        var writer = new MmdbWriter(6, 28) { DatabaseType = "GeoIP2-City", DataPrefix = Padding };
        var record = new Map(
            ("country", new Map(("iso_code", countryCode), ("names", new Map(("en", $"Country {countryCode}"))))),
            ("location", new Map(("latitude", 1.5), ("longitude", -2.5), ("accuracy_radius", (ushort)50))));
        writer.Insert("0.0.0.0/1", record);
        writer.Insert("128.0.0.0/1", record);
        writer.Insert("2000::/3", record);
        return writer.Build();
    }

    private ReloadingGeoDatabase Open() =>
        ReloadingGeoDatabase.Open(_path, new ReloadingGeoDatabaseOptions
        {
            // The timer stays out of the way; these tests drive checks themselves.
            PollInterval = TimeSpan.FromDays(1),
            SnapshotDirectory = _snapshots,
        });

    /// <summary>Writes the new file beside the old one and renames it over (the atomic replacement operators use).</summary>
    private void ReplaceByRename(byte[] content)
    {
        var temporary = _path + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, _path, overwrite: true);
    }
}
