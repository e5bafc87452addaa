namespace ExposureIndex.Crawler.Targeting;

/// <summary>
/// <c>--dry-run</c>: the plan as text, one <c>ip:port/transport</c> per line (IPv6 bracketed) in the exact order
/// the sweep would visit, and nothing sent. It is the main test surface of targeting: what it prints is what
/// a crawl with the same plan, seed and shard would try, no more and no less.
/// </summary>
internal static class DryRun
{
    /// <summary>Writes this shard's triples from local position <paramref name="from"/>; returns how many.</summary>
    public static ulong Write(SweepOrder order, TextWriter output, ulong from = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(output);
        ulong written = 0;
        // Bounded: the shard holds Count positions.
        for (var local = from; local < order.Count; local++)
        {
            if ((written & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            order[local].AppendTo(output);
            output.Write('\n');
            written++;
        }

        output.Flush();
        return written;
    }

    /// <summary>The policy's refusals, one line each, for standard error (the plan itself goes to standard output).</summary>
    public static void WriteRefusals(PolicyResult policy, TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(errors);
        foreach (var refusal in policy.Refusals)
        {
            errors.WriteLine(refusal.Message);
        }

        if (policy.RefusalsOmitted > 0)
        {
            errors.WriteLine($"... and {policy.RefusalsOmitted} more refused ranges ({policy.RefusedAddresses} addresses refused in all)");
        }
    }
}
