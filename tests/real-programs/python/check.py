"""Kuai real-program check: CPython 3.12 (WASI) exercising the WASI preview1 host.

Run by tests/real-programs/python/run.sh as

    RUNTIME run --dir TMP::/work --env KUAI_CHECK=kuai-real-programs --argv0 python3 \
        python-3.12.0.wasm /work/check.py /work

Everything printed here must be deterministic: no times, no host paths, no random
values, no iteration over sets/dicts of str (hash randomization is on, seeded from
random_get). The script exits with status 3 on purpose, after printing "done", so the
runner also checks that proc_exit's code reaches the host's exit status.
"""

import sys
import os

# Import everything first so an import failure shows up before any output.
import bz2
import collections
import dataclasses
import datetime
import decimal
import fractions
import hashlib
import io
import itertools
import json
import math
import random
import re
import sqlite3
import struct
import textwrap
import time
import unicodedata
import zlib

GUEST = sys.argv[1] if len(sys.argv) > 1 else "/work"


def section(name):
    print(f"== {name}")


# --- interpreter / environment ---------------------------------------------------------
section("interpreter")
print("version", sys.version_info[:3])
print("platform", sys.platform, sys.byteorder, sys.maxsize)
print("orig_argv", sys.orig_argv[0], sys.orig_argv[2:])
print("argv", [os.path.basename(sys.argv[0])] + sys.argv[1:])
print("env KUAI_CHECK", os.environ.get("KUAI_CHECK"))
print("env count", len(os.environ))
print("urandom len", len(os.urandom(32)))
t0 = time.time()
m0 = time.monotonic()
print("wall clock after 2020", t0 > 1577836800)
print("monotonic non-decreasing", time.monotonic() >= m0)
print("perf_counter_ns int", isinstance(time.perf_counter_ns(), int))

# --- pure computation ------------------------------------------------------------------
section("compute")
primes = [n for n in range(2, 2000) if all(n % d for d in range(2, math.isqrt(n) + 1))]
print("primes<2000", len(primes), primes[-5:], sum(primes))
print("factorial(40)", math.factorial(40))
print("2**200 mod 1e9+7", pow(2, 200, 10**9 + 7))
print("fractions", sum(fractions.Fraction(1, k) for k in range(1, 21)))
decimal.getcontext().prec = 40
print("decimal sqrt2", decimal.Decimal(2).sqrt())
print("float", repr(0.1 + 0.2), math.pi, math.e, math.sqrt(2), 1e300 * 10, math.fsum([0.1] * 10))
print("struct", struct.pack("<iqd", -2, 1 << 40, 1.5).hex(), struct.unpack(">HI", b"\x01\x02\x03\x04\x05\x06"))
rng = random.Random(12345)
print("seeded random", [rng.randrange(1000) for _ in range(8)], round(rng.random(), 12))
words = "the quick brown fox jumps over the lazy dog the end".split()
print("counter", sorted(collections.Counter(words).items()))
print("itertools", list(itertools.islice(itertools.permutations("abcd", 2), 7)))
print("date", datetime.date(2024, 2, 29) + datetime.timedelta(days=366), datetime.datetime(2000, 1, 1, 12, 30).isoformat())
print("unicode", unicodedata.name("\u00e9"), unicodedata.normalize("NFD", "\u00e9").encode("utf-8").hex(), "Stra\u00dfe".upper())
print("textwrap", textwrap.wrap("WebAssembly is a binary instruction format for a stack-based virtual machine.", 24))


@dataclasses.dataclass(order=True)
class Item:
    name: str
    qty: int


print("dataclass", sorted([Item("b", 2), Item("a", 3), Item("b", 1)]))

# --- json / re / hashlib ---------------------------------------------------------------
section("json")
doc = {"name": "kuai", "list": [1, 2.5, None, True, "x\u00e9\u4e2d"], "nested": {"k": [{"a": 1}, {"b": [2, 3]}]}}
text = json.dumps(doc, sort_keys=True)
print(text)
print("round trip equal", json.loads(text) == doc)
print("pretty lines", len(json.dumps(doc, indent=2).splitlines()))
print("ascii false", json.dumps("\u4e2d\u6587", ensure_ascii=False))

section("re")
log = "2024-01-05 ERROR disk full; 2024-01-06 WARN cpu hot; 2024-02-11 ERROR net down"
print(re.findall(r"(\d{4})-(\d\d)-(\d\d) (ERROR|WARN) ([a-z ]+)", log))
print(re.sub(r"(?P<y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)", r"\g<d>/\g<m>/\g<y>", log))
print(re.split(r"[;,]\s*", "a, b;c ,d"))
print(bool(re.fullmatch(r"[\w.+-]+@[\w-]+\.[\w.]+", "user.name+tag@example.org")))

section("hashlib")
print("sha256 abc", hashlib.sha256(b"abc").hexdigest())
blob = b"".join(i.to_bytes(4, "little") for i in range(100000))
print("sha256 400KB", hashlib.sha256(blob).hexdigest())
print("sha1", hashlib.sha1(b"kuai").hexdigest())
print("md5", hashlib.md5(b"kuai").hexdigest())
print("blake2b", hashlib.blake2b(b"kuai", digest_size=16).hexdigest())
print("sha3_256", hashlib.sha3_256(b"kuai").hexdigest())

# --- zlib / bz2 ------------------------------------------------------------------------
section("zlib")
payload = ("".join(f"line {i}: {'abc' * (i % 7)}\n" for i in range(5000))).encode()
comp = zlib.compress(payload, 9)
back = zlib.decompress(comp)
print("zlib version", zlib.ZLIB_VERSION)
print("raw", len(payload), "crc32", hex(zlib.crc32(payload)), "adler32", hex(zlib.adler32(payload)))
print("compressed", len(comp), "crc32", hex(zlib.crc32(comp)))
print("round trip", back == payload)
co = zlib.compressobj(6, zlib.DEFLATED, -15)
raw_deflate = co.compress(payload) + co.flush()
print("raw deflate", len(raw_deflate), zlib.decompress(raw_deflate, -15) == payload)
bz = bz2.compress(payload)
print("bz2", len(bz), bz2.decompress(bz) == payload)

# --- sqlite3 ---------------------------------------------------------------------------
section("sqlite")
print("sqlite_version", sqlite3.sqlite_version)


def fill(conn):
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, grp TEXT NOT NULL, val INTEGER, score REAL)")
    rows = [(i, "g%d" % (i % 7), (i * 37) % 101, i / 8) for i in range(1, 401)]
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    conn.execute("CREATE INDEX t_grp ON t (grp)")
    conn.commit()


def report(conn, label):
    cur = conn.execute("SELECT count(*), sum(val), min(val), max(val), total(score) FROM t")
    print(label, "totals", cur.fetchone())
    for row in conn.execute(
        "SELECT grp, count(*), sum(val), round(avg(score), 4) FROM t GROUP BY grp HAVING count(*) > 50 ORDER BY grp"
    ):
        print(label, "group", row)
    print(label, "top3", conn.execute("SELECT id, val FROM t ORDER BY val DESC, id LIMIT 3").fetchall())
    print(label, "json", conn.execute("SELECT json_object('n', count(*), 'g', group_concat(DISTINCT grp)) FROM (SELECT grp FROM t ORDER BY grp)").fetchone()[0])


mem = sqlite3.connect(":memory:")
fill(mem)
report(mem, "mem")
mem.close()

db_path = os.path.join(GUEST, "data", "check.db")
os.makedirs(os.path.dirname(db_path), exist_ok=True)
conn = sqlite3.connect(db_path)
fill(conn)
conn.execute("UPDATE t SET val = val + 1000 WHERE grp = 'g3'")
conn.execute("DELETE FROM t WHERE id % 10 = 0")
conn.commit()
conn.close()
conn = sqlite3.connect(db_path)  # reopen: the data must have reached the file
report(conn, "file")
print("file integrity", conn.execute("PRAGMA integrity_check").fetchone()[0])
conn.close()
print("db file size multiple of page", os.path.getsize(db_path) % 4096 == 0)

# --- files in the preopened directory ---------------------------------------------------
section("files")
base = os.path.join(GUEST, "data")
os.makedirs(os.path.join(base, "sub", "deeper"), exist_ok=True)
text_path = os.path.join(base, "hello.txt")
with open(text_path, "w", encoding="utf-8") as f:
    for i in range(100):
        f.write(f"{i:03d} h\u00e9llo w\u00f6rld\n")
with open(text_path, "a", encoding="utf-8") as f:
    f.write("appended\n")
with open(text_path, encoding="utf-8") as f:
    lines = f.read().splitlines()
print("lines", len(lines), lines[0], lines[-2], lines[-1])
print("size", os.path.getsize(text_path), os.stat(text_path).st_size)

bin_path = os.path.join(base, "sub", "blob.bin")
with open(bin_path, "wb") as f:
    f.write(bytes(range(256)) * 64)
with open(bin_path, "r+b") as f:
    f.seek(1000)
    print("seek/read", f.read(4).hex(), f.tell())
    f.seek(-3, io.SEEK_END)
    print("from end", f.read().hex())
    f.seek(10)
    f.write(b"KUAI")
    f.truncate(5000)
fd = os.open(bin_path, os.O_RDONLY)
print("pread", os.pread(fd, 6, 8).hex())
os.close(fd)
print("truncated size", os.path.getsize(bin_path))
with open(bin_path, "rb") as f:
    print("blob sha256", hashlib.sha256(f.read()).hexdigest())

os.rename(os.path.join(base, "sub", "blob.bin"), os.path.join(base, "sub", "deeper", "moved.bin"))
with open(os.path.join(base, "gone.txt"), "w") as f:
    f.write("x")
os.remove(os.path.join(base, "gone.txt"))
os.makedirs(os.path.join(base, "emptydir"))
os.rmdir(os.path.join(base, "emptydir"))
print("exists", os.path.exists(os.path.join(base, "gone.txt")), os.path.isdir(os.path.join(base, "sub", "deeper")))
try:
    open(os.path.join(base, "missing.txt"))
except FileNotFoundError as e:
    print("missing", type(e).__name__, e.errno == 44 or e.errno)

print("listdir", sorted(os.listdir(base)))
for root, dirs, files in sorted(os.walk(base)):
    dirs.sort()
    rel = os.path.relpath(root, GUEST)
    print("walk", rel, sorted(dirs), sorted((n, os.path.getsize(os.path.join(root, n))) for n in files))
with os.scandir(base) as it:
    print("scandir", sorted((e.name, e.is_dir(), e.is_file()) for e in it))

section("stdio")
sys.stdout.write("stdout.write without newline|")
sys.stdout.write("continued\n")
print("stdout encoding", sys.stdout.encoding)
print("done")
sys.stdout.flush()
sys.exit(3)
