using System.Security.Cryptography;
using System.Text;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;

namespace ExposureIndex.Grabbers.Dns;

/// <summary>
/// DNS over UDP (Shodan's "dns-udp"): version.bind, hostname.bind and id.server, each CH TXT, each in its own
/// datagram. Only CHAOS-class questions about the server itself are ever sent, with RD clear: never a query that
/// could make a resolver reach anywhere else. Recursion availability is read from the reply header's RA bit.
/// </summary>
internal sealed class DnsUdpGrabber : IGrabber
{
    public string Name => "dns-udp";

    public Transport Transport => Transport.Udp;

    public IReadOnlyList<string> Services { get; } = ["domain", "dns"];

    public IReadOnlyList<int> Ports { get; } = [53];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var record = new ServiceRecord { Module = Name, Dns = new DnsSection() };
        return GrabGuard.RunAsync(context, "the DNS (UDP) grab", record, async deadline =>
        {
            // Three independent datagrams at once: an unanswered question costs one read timeout, not three.
            var names = DnsChaos.Names;
            var exchanges = names.Select(name => AskAsync(context, name, deadline)).ToArray();
            var replies = await Task.WhenAll(exchanges).ConfigureAwait(false);
            return DnsChaos.Conclude(record, names.Zip(replies).ToList(), "UDP");
        }, cancellationToken);
    }

    private static async Task<DnsChaos.Reply> AskAsync(GrabContext context, string name, CancellationToken deadline)
    {
        var id = DnsChaos.NewId();
        var datagrams = await context.Network.ExchangeUdpAsync(context.Target, DnsQuery.Build(id, name), context.Limits, deadline).ConfigureAwait(false);
        if (datagrams.Count == 0)
        {
            return new DnsChaos.Reply(null, null, [], "no answer");
        }

        var parser = new DnsParser(tcp: false);
        var status = parser.Feed(datagrams[0]);
        if (status == ParseStatus.NeedMore)
        {
            status = parser.End();
        }

        return status == ParseStatus.Complete
            ? DnsChaos.Check(parser.Result!, id, name, datagrams[0])
            : new DnsChaos.Reply(null, null, datagrams[0], parser.Error);
    }
}

/// <summary>DNS over TCP (Shodan's "dns-tcp"): the same three CHAOS questions on one connection, one after another.</summary>
internal sealed class DnsTcpGrabber : IGrabber
{
    public string Name => "dns-tcp";

    public Transport Transport => Transport.Tcp;

    public IReadOnlyList<string> Services { get; } = ["domain", "dns"];

    public IReadOnlyList<int> Ports { get; } = [53];

    public ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var record = new ServiceRecord { Module = Name, Dns = new DnsSection() };
        return GrabGuard.RunAsync(context, "the DNS (TCP) grab", record, async deadline =>
        {
            await using var connection = await context.ConnectAsync(deadline).ConfigureAwait(false);
            var replies = new List<(string, DnsChaos.Reply)>(3);
            foreach (var name in DnsChaos.Names)
            {
                var id = DnsChaos.NewId();
                await connection.WriteAsync(DnsQuery.BuildTcp(id, name), deadline).ConfigureAwait(false);
                var parser = new DnsParser(tcp: true);
                ParsedRead read;
                try
                {
                    read = await connection.ReadParsedAsync(parser, 2 + DnsParser.MaxMessageBytes, deadline).ConfigureAwait(false);
                }
                catch (Exception ex) when (replies.Count > 0 && (ex is GrabLimitException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)))
                {
                    // A server that answers version.bind but stalls on a later question keeps what it said.
                    replies.Add((name, new DnsChaos.Reply(null, null, [], "no answer in time")));
                    break;
                }

                replies.Add((name, read.Status == ParseStatus.Complete
                    ? DnsChaos.Check(parser.Result!, id, name, read.Bytes)
                    : new DnsChaos.Reply(null, null, read.Bytes, parser.Error)));
                if (read.Status != ParseStatus.Complete)
                {
                    break;
                }
            }

            return DnsChaos.Conclude(record, replies, "TCP");
        }, cancellationToken);
    }
}

/// <summary>What the UDP and TCP grabbers share: the questions, matching replies, and filling the record.</summary>
internal static class DnsChaos
{
    public static readonly IReadOnlyList<string> Names = [DnsQuery.VersionBind, DnsQuery.HostnameBind, DnsQuery.IdServer];

    /// <summary>One question's outcome: the parsed reply (when it matched our query), its TXT answer, raw bytes, or why not.</summary>
    internal sealed record Reply(DnsResult? Result, string? Text, byte[] Raw, string? Error);

    public static ushort NewId() => (ushort)RandomNumberGenerator.GetInt32(0, 65_536);

    /// <summary>A reply counts only when it answers our question (RFC 5452 §9.1: id and question must match).</summary>
    public static Reply Check(DnsResult result, ushort id, string name, byte[] raw)
    {
        if (!result.IsResponse || result.Id != id)
        {
            return new Reply(null, null, raw, $"reply id {result.Id} (QR {(result.IsResponse ? 1 : 0)}) does not answer query {id}");
        }

        if (result.QuestionName is { } q && !string.Equals(q, name, StringComparison.OrdinalIgnoreCase))
        {
            return new Reply(null, null, raw, $"reply is about '{q}', not '{name}'");
        }

        return new Reply(result, result.ResponseCode == 0 ? result.FirstText : null, raw, null);
    }

    public static GrabResult Conclude(ServiceRecord record, IReadOnlyList<(string Name, Reply Reply)> replies, string transport)
    {
        var section = record.Dns;
        var version = replies.FirstOrDefault(r => r.Name == DnsQuery.VersionBind).Reply;
        var any = replies.Select(r => r.Reply).FirstOrDefault(r => r?.Result is not null)?.Result;
        if (any is null)
        {
            var first = replies.Select(r => r.Reply).FirstOrDefault(r => r is { Raw.Length: > 0 });
            if (first is not null)
            {
                record.Data = ByteString.CopyFrom(first.Raw);
                return GrabResult.Failed(GrabOutcome.ProtocolError, $"DNS over {transport}: {first.Error}", record);
            }

            return GrabResult.Failed(GrabOutcome.IoTimeout, $"DNS over {transport}: no reply to any CHAOS TXT question", record);
        }

        section.Recursive = any.RecursionAvailable;
        if (version?.Result is { } v)
        {
            section.Rcode = v.ResponseCodeName;
            section.Authoritative = v.Authoritative;
        }

        section.Software = version?.Text ?? string.Empty;
        section.ResolverHostname = replies.FirstOrDefault(r => r.Name == DnsQuery.HostnameBind).Reply?.Text ?? string.Empty;
        section.ResolverId = replies.FirstOrDefault(r => r.Name == DnsQuery.IdServer).Reply?.Text ?? string.Empty;
        if (DnsSoftware.TryParse(section.Software, out var product))
        {
            product.ApplyTo(record);
        }

        // Shodan's data for DNS: the software line, then recursion and the resolver's names.
        var data = new StringBuilder();
        data.Append(section.Software).Append('\n');
        data.Append("Recursion: ").Append(section.Recursive ? "enabled" : "disabled");
        if (section.ResolverHostname.Length > 0)
        {
            data.Append("\nResolver name: ").Append(section.ResolverHostname);
        }

        if (section.ResolverId.Length > 0)
        {
            data.Append("\nResolver ID: ").Append(section.ResolverId);
        }

        record.Data = ByteString.CopyFromUtf8(data.ToString());
        return GrabResult.Success(record);
    }
}
