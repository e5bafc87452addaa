#!/usr/bin/python3
# bench/geoip's reference: Debian's python3-maxminddb (MaxMind's reader; its C extension over libmaxminddb when
# present) doing the same lookups over the same address list as our reader.
#   maxminddb_reference.py <db.mmdb> <addresses.txt> <seconds> <sample>
# Prints "mode <C extension|pure python> <version>", "rate <lookups> <seconds>", then for the first <sample>
# addresses one line each: "<prefix length>\t<record>", the record in the canonical form bench/geoip renders ours
# in (sorted keys, doubles as %.17g, bytes as hex), so the two readers' answers compare as text.
import ipaddress
import math
import sys
import time

import maxminddb


def quote(text):
    return '"' + text.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n').replace('\r', '\\r').replace('\t', '\\t') + '"'


def canonical(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, dict):
        return '{' + ','.join(quote(k) + ':' + canonical(value[k]) for k in sorted(value)) + '}'
    if isinstance(value, list):
        return '[' + ','.join(canonical(v) for v in value) + ']'
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return 'nan'
        if math.isinf(value):
            return 'inf' if value > 0 else '-inf'
        return '%.17g' % value
    if isinstance(value, (bytes, bytearray)):
        return 'b' + bytes(value).hex()
    raise TypeError(f'unexpected value type {type(value).__name__}')


def main():
    path, address_file, seconds, sample = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    sys.stdout.reconfigure(encoding='utf-8')
    try:
        reader = maxminddb.open_database(path, maxminddb.MODE_MMAP_EXT)
        mode = 'C extension'
    except (ImportError, ValueError):
        reader = maxminddb.open_database(path, maxminddb.MODE_MMAP)
        mode = 'pure python'
    # Parsed once, before the clock: our side looks up pre-parsed IPAddress objects too.
    with open(address_file, encoding='ascii') as f:
        addresses = [ipaddress.ip_address(line.strip()) for line in f if line.strip()]
    chunk = 8192
    count = len(addresses) - len(addresses) % chunk
    get = reader.get
    for address in addresses[:50000]:  # warm-up
        get(address)

    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        at = done % count
        for address in addresses[at:at + chunk]:
            get(address)
        done += chunk
    elapsed = time.perf_counter() - start

    version = getattr(maxminddb, '__version__', '?')
    print(f'mode {mode} {version}')
    print(f'rate {done} {elapsed:.6f}')
    for address in addresses[:sample]:
        record, prefix = reader.get_with_prefix_len(address)
        print(f'{prefix}\t{canonical(record)}')
    reader.close()


if __name__ == '__main__':
    main()
