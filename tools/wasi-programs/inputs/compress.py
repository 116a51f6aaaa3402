# A small Python program for CPython: compresses its own source with zlib and hashes it.
import hashlib
import json
import zlib

data = open("compress.py", "rb").read() * 20
packed = zlib.compress(data, 9)
assert zlib.decompress(packed) == data
print(len(data), len(packed), zlib.crc32(data))
print(hashlib.sha256(data).hexdigest())
print(json.dumps({"ratio": round(len(packed) / len(data), 4)}))
