namespace ExposureIndex.GeoIp;

/// <summary>
/// The fast typed path: reads only the fields a Shodan-style document needs straight from the data section,
/// comparing map keys as UTF-8 bytes and skipping every other value without materialising it. The layout
/// follows MaxMind's GeoIP2 record schemas (country.iso_code, city.names.en, subdivisions[0].iso_code, ...).
/// A field of an unexpected type is treated as absent; corrupt bytes still raise MmdbFormatException.
/// </summary>
internal static class GeoRecordExtractor
{
    public static GeoLocation Location(MmdbDecoder data, long offset)
    {
        var budget = default(MmdbDecoder.DecodeBudget);
        string? countryCode = null, countryName = null, city = null, regionCode = null, postalCode = null, continentCode = null;
        double? latitude = null, longitude = null;
        int? accuracyRadius = null;
        if (data.TryOpenMap(offset, 0, ref budget, out var record))
        {
            while (record.Next(ref budget, out var key, out var value))
            {
                if (key.SequenceEqual("country"u8))
                {
                    ReadCodeAndName(data, value, record.Depth + 1, "iso_code"u8, ref budget, out countryCode, out countryName);
                }
                else if (key.SequenceEqual("city"u8))
                {
                    ReadCodeAndName(data, value, record.Depth + 1, default, ref budget, out _, out city);
                }
                else if (key.SequenceEqual("subdivisions"u8))
                {
                    if (data.TryOpenArray(value, record.Depth + 1, ref budget, out var subdivisions) && subdivisions.Next(ref budget, out var first))
                    {
                        regionCode = StringField(data, first, subdivisions.Depth + 1, "iso_code"u8, ref budget);
                    }
                }
                else if (key.SequenceEqual("postal"u8))
                {
                    postalCode = StringField(data, value, record.Depth + 1, "code"u8, ref budget);
                }
                else if (key.SequenceEqual("continent"u8))
                {
                    continentCode = StringField(data, value, record.Depth + 1, "code"u8, ref budget);
                }
                else if (key.SequenceEqual("location"u8) && data.TryOpenMap(value, record.Depth + 1, ref budget, out var location))
                {
                    while (location.Next(ref budget, out var field, out var fieldValue))
                    {
                        if (field.SequenceEqual("latitude"u8) && data.TryReadNumber(fieldValue, out var lat))
                        {
                            latitude = lat;
                        }
                        else if (field.SequenceEqual("longitude"u8) && data.TryReadNumber(fieldValue, out var lon))
                        {
                            longitude = lon;
                        }
                        else if (field.SequenceEqual("accuracy_radius"u8) && data.TryReadUnsigned(fieldValue, out var radius) && radius <= int.MaxValue)
                        {
                            accuracyRadius = (int)radius;
                        }
                    }
                }
            }
        }

        return new GeoLocation(countryCode, countryName, city, regionCode, postalCode, latitude, longitude, continentCode, accuracyRadius);
    }

    /// <summary>
    /// ASN and ISP databases keep the fields at the top level; Enterprise databases keep them under "traits".
    /// The organization is "organization" (ISP) and falls back to "autonomous_system_organization" (ASN).
    /// </summary>
    public static NetworkOwner Owner(MmdbDecoder data, long offset, bool underTraits)
    {
        var budget = default(MmdbDecoder.DecodeBudget);
        uint? asn = null;
        string? asOrganization = null, organization = null, isp = null;
        if (data.TryOpenMap(offset, 0, ref budget, out var record))
        {
            if (underTraits)
            {
                var traits = Find(data, ref record, "traits"u8, ref budget);
                if (traits < 0 || !data.TryOpenMap(traits, 1, ref budget, out record))
                {
                    return new NetworkOwner(null, null, null);
                }
            }

            while (record.Next(ref budget, out var key, out var value))
            {
                if (key.SequenceEqual("autonomous_system_number"u8))
                {
                    if (data.TryReadUnsigned(value, out var number) && number <= uint.MaxValue)
                    {
                        asn = (uint)number;
                    }
                }
                else if (key.SequenceEqual("autonomous_system_organization"u8))
                {
                    asOrganization = data.ReadStringOrNull(value, ref budget);
                }
                else if (key.SequenceEqual("organization"u8))
                {
                    organization = data.ReadStringOrNull(value, ref budget);
                }
                else if (key.SequenceEqual("isp"u8))
                {
                    isp = data.ReadStringOrNull(value, ref budget);
                }
            }
        }

        return new NetworkOwner(asn, organization ?? asOrganization, isp);
    }

    /// <summary>Reads a code field (when <paramref name="codeKey"/> is not empty) and names.en from one map.</summary>
    private static void ReadCodeAndName(MmdbDecoder data, long offset, int depth, ReadOnlySpan<byte> codeKey, ref MmdbDecoder.DecodeBudget budget, out string? code, out string? name)
    {
        code = null;
        name = null;
        if (!data.TryOpenMap(offset, depth, ref budget, out var map))
        {
            return;
        }

        while (map.Next(ref budget, out var key, out var value))
        {
            if (!codeKey.IsEmpty && key.SequenceEqual(codeKey))
            {
                code = data.ReadStringOrNull(value, ref budget);
            }
            else if (key.SequenceEqual("names"u8))
            {
                name = StringField(data, value, depth + 1, "en"u8, ref budget);
            }
        }
    }

    private static string? StringField(MmdbDecoder data, long mapOffset, int depth, ReadOnlySpan<byte> field, ref MmdbDecoder.DecodeBudget budget)
    {
        if (!data.TryOpenMap(mapOffset, depth, ref budget, out var map))
        {
            return null;
        }

        var value = Find(data, ref map, field, ref budget);
        return value < 0 ? null : data.ReadStringOrNull(value, ref budget);
    }

    private static long Find(MmdbDecoder data, ref MmdbDecoder.MapReader map, ReadOnlySpan<byte> field, ref MmdbDecoder.DecodeBudget budget)
    {
        _ = data;
        while (map.Next(ref budget, out var key, out var value))
        {
            if (key.SequenceEqual(field))
            {
                return value;
            }
        }

        return -1;
    }
}
