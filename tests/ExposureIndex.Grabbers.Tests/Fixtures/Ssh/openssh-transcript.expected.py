#!/usr/bin/python3
# Recomputes openssh-transcript.expected.txt from the raw capture with nothing but the standard library, as an
# independent reading of RFC 4253 (identification line, binary packets, KEXINIT name-lists, K_S of message 31).
# Usage: /usr/bin/python3 openssh-transcript.expected.py > openssh-transcript.expected.txt
import base64, hashlib, os, struct

d = open(os.path.join(os.path.dirname(__file__), 'openssh-transcript.bin'), 'rb').read()
nl = d.index(b'\n')
banner, rest = d[:nl].rstrip(b'\r').decode(), d[nl + 1:]
packets = []
while len(rest) >= 4:
    length, pad = struct.unpack('>I', rest[:4])[0], rest[4]
    packets.append(rest[5:4 + length - pad])
    rest = rest[4 + length:]

def name_lists(payload):
    at, out = 17, []
    for _ in range(10):
        n = struct.unpack('>I', payload[at:at + 4])[0]
        out.append(payload[at + 4:at + 4 + n].decode())
        at += 4 + n
    return out

k = name_lists(packets[0])
reply = packets[1]
assert reply[0] == 31
ks = reply[5:5 + struct.unpack('>I', reply[1:5])[0]]
key_type = ks[4:4 + struct.unpack('>I', ks[:4])[0]].decode()
print('# Computed from the raw bytes of openssh-transcript.bin by a separate Python reading (hashlib), not by the grabber.')
print(f'banner={banner}')
print(f'type={key_type}')
print('sha256=SHA256:' + base64.b64encode(hashlib.sha256(ks).digest()).decode().rstrip('='))
print('md5=' + ':'.join(hashlib.md5(ks).hexdigest()[i:i + 2] for i in range(0, 32, 2)))
print('hassh=' + hashlib.md5(';'.join([k[0], k[3], k[5], k[7]]).encode()).hexdigest())
print(f'kex={k[0]}\nenc={k[3]}\nmac={k[5]}\ncmp={k[7]}\nhostkeys={k[1]}')
