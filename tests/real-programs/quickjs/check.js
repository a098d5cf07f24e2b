// Kuai real-program check: QuickJS-NG 0.17.0 (qjs-wasi-reactor.wasm) running a
// deterministic program. Evaluated by a host (prototype_host.py, or Kuai's) as
//
//     qjs_init_argv(["qjs", "--std", "-m", "/work/check.js", "alpha", "beta"])
//
// with the host directory preopened as /work. `--std` makes std/os/bjson globals;
// `-m` evaluates it as a module, so top-level `await` drives the job queue (the reactor
// exports no event-loop entry point, see HOST.md). Output must be deterministic: no
// Date.now(), no Math.random(), no timers.

const log = console.log;
const section = (name) => log(`== ${name}`);

section("args");
log("scriptArgs", JSON.stringify(scriptArgs.slice(1)), scriptArgs[0]);
log("typeof std/os", typeof std, typeof os, typeof std.loadFile, typeof os.readdir);

// --- numbers ---------------------------------------------------------------------------
section("sieve");
function sieve(n) {
  const isComposite = new Uint8Array(n + 1);
  const primes = [];
  for (let i = 2; i <= n; i++) {
    if (isComposite[i]) continue;
    primes.push(i);
    for (let j = i * i; j <= n; j += i) isComposite[j] = 1;
  }
  return primes;
}
const primes = sieve(200000);
log("count", primes.length, "last", primes.slice(-3).join(","), "sum", primes.reduce((a, b) => a + b, 0));
const twin = primes.filter((p, i) => primes[i + 1] === p + 2).length;
log("twin pairs", twin);

section("bigint");
let fact = 1n;
for (let i = 1n; i <= 50n; i++) fact *= i;
log("50!", fact.toString());
log("50! digits", fact.toString().length, "mod 1e9+7", (fact % 1000000007n).toString());
log("2^127-1", (2n ** 127n - 1n).toString(), "hex", (2n ** 64n).toString(16));
log("BigInt.asIntN", BigInt.asIntN(8, 255n).toString(), BigInt.asUintN(64, -1n).toString());

section("math");
log(0.1 + 0.2, Math.sqrt(2), Math.PI.toFixed(10), (1234.5678).toFixed(2), (255).toString(2));
log(Number.MAX_SAFE_INTEGER, 2 ** 53 + 1, 1e21, 1 / 3, -0 === 0, Object.is(-0, 0), NaN !== NaN);
log(Math.imul(0x7fffffff, 3), Math.clz32(1), Math.fround(5.5), Math.hypot(3, 4), Math.trunc(-4.7));
log(parseInt("ff", 16), parseFloat("3.14abc"), (123.456).toPrecision(4), (0.000001234).toExponential(2));
let fib = [0, 1];
while (fib.length < 80) fib.push(fib[fib.length - 1] + fib[fib.length - 2]);
log("fib[78]", fib[78], "exceeds safe", fib[79] > Number.MAX_SAFE_INTEGER);

// --- strings / regex -------------------------------------------------------------------
section("strings");
const text = "The quick brown fox jumps over the lazy dog";
log(text.split(" ").map((w) => w[0].toUpperCase() + w.slice(1).toLowerCase()).join(" "));
log([...text].reverse().join(""));
log(text.replace(/o/g, "0").padStart(46, "*"), text.length, text.indexOf("fox"), text.at(-1));
const counts = {};
for (const ch of text.toLowerCase().replace(/[^a-z]/g, "")) counts[ch] = (counts[ch] || 0) + 1;
log("letters", Object.keys(counts).length, Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 4).map((e) => e.join(":")).join(" "));
log("unicode", "h\u00e9llo w\u00f6rld \u4e2d\u6587".toUpperCase(), "\u00e9".normalize("NFD").length, [..."\u{1F600}x"].length, "\u{1F600}".codePointAt(0).toString(16));
log("template", `${1 + 1} ${"a".repeat(3)} ${[1, 2, 3]}`, String.raw`a\nb`);

section("regex");
const logText = "2024-01-05 ERROR disk full; 2024-01-06 WARN cpu hot; 2024-02-11 ERROR net down";
const re = /(?<y>\d{4})-(?<m>\d\d)-(?<d>\d\d) (?<level>ERROR|WARN) (?<msg>[a-z ]+)/g;
for (const m of logText.matchAll(re)) log(m.groups.level, m.groups.d + "/" + m.groups.m + "/" + m.groups.y, JSON.stringify(m.groups.msg), m.index);
log(logText.replace(/(\d{4})-(\d\d)-(\d\d)/g, "$3.$2.$1"));
log(/^[\w.+-]+@[\w-]+\.[\w.]+$/.test("user.name+tag@example.org"), "a1b22c333".split(/\d+/), /(?<=\$)\d+/.exec("cost $42")[0]);
log("sticky/unicode", /\p{L}+/u.exec("123 \u00e9t\u00e9 x")[0], "aaa".replace(/a/y, "b"));

// --- JSON --------------------------------------------------------------------------------
section("json");
const doc = { name: "kuai", list: [1, 2.5, null, true, "x\u00e9\u4e2d"], nested: { k: [{ a: 1 }, { b: [2, 3] }] }, n: -0.5e-7 };
const s = JSON.stringify(doc);
log(s);
const back = JSON.parse(s);
log("round trip", JSON.stringify(back) === s, back.nested.k[1].b[1], back.list.length);
log(JSON.stringify(doc, null, 2).split("\n").length, JSON.stringify({ b: 1, a: [new Date(0)], c: undefined, d: () => 1 }));
log(JSON.stringify(JSON.parse('{"x":[1,{"y":"\\u0041\\n"}]}', (k, v) => (typeof v === "number" ? v * 10 : v))));

// --- classes / closures / collections ---------------------------------------------------
section("classes");
class Shape {
  #id;
  static count = 0;
  constructor(name) { this.name = name; this.#id = ++Shape.count; }
  get id() { return this.#id; }
  area() { return 0; }
  toString() { return `${this.name}#${this.#id}(${this.area().toFixed(3)})`; }
}
class Circle extends Shape {
  constructor(r) { super("circle"); this.r = r; }
  area() { return Math.PI * this.r ** 2; }
}
class Rect extends Shape {
  constructor(w, h) { super("rect"); this.w = w; this.h = h; }
  area() { return this.w * this.h; }
}
class Square extends Rect {
  constructor(a) { super(a, a); this.name = "square"; }
  toString() { return "[] " + super.toString(); }
}
const shapes = [new Circle(1), new Rect(2, 3.5), new Square(2), new Circle(0.5)];
shapes.sort((a, b) => a.area() - b.area());
log(shapes.map(String).join(", "));
log("instanceof", shapes.map((x) => [x instanceof Rect, x instanceof Shape, x.constructor.name].join("/")).join(" "), "count", Shape.count);

section("closures");
function makeCounter(start) {
  let n = start;
  return { inc: (k = 1) => (n += k), get: () => n };
}
const c1 = makeCounter(10), c2 = makeCounter(100);
c1.inc(); c1.inc(5); c2.inc(-1);
log(c1.get(), c2.get());
const compose = (...fns) => (x) => fns.reduceRight((acc, f) => f(acc), x);
log(compose((x) => x + 1, (x) => x * 2, (x) => x - 3)(10));
const memo = (f) => { const cache = new Map(); return (n) => cache.has(n) ? cache.get(n) : (cache.set(n, f(n)), cache.get(n)); };
const slowFib = memo((n) => (n < 2 ? n : slowFib(n - 1) + slowFib(n - 2)));
log("memo fib(90)", slowFib(90));

section("collections");
const m = new Map();
for (const w of text.toLowerCase().split(" ")) m.set(w, (m.get(w) || 0) + 1);
log([...m].map(([k, v]) => k + "=" + v).join(","), m.size);
const set = new Set([5, 3, 5, 1, 3, 9]);
log([...set].join(","), set.has(9), set.size);
const weak = new WeakMap(); const key = {}; weak.set(key, "v"); log(weak.get(key));
const people = [
  { name: "Eve", age: 31 }, { name: "bob", age: 25 }, { name: "Alice", age: 31 },
  { name: "dave", age: 25 }, { name: "Carol", age: 40 },
];
people.sort((a, b) => b.age - a.age || a.name.localeCompare(b.name, "en", { sensitivity: "base" }));
log(people.map((p) => `${p.name}(${p.age})`).join(" "));
const nums = Array.from({ length: 20 }, (_, i) => (i * 7919) % 31);
log(nums.slice().sort((a, b) => a - b).join(","), nums.slice().sort().slice(0, 5).join(","));
log(nums.filter((x) => x % 2).map((x) => x * x).reduce((a, b) => a + b), nums.findLast((x) => x > 25), nums.includes(0));
log(JSON.stringify([[1, [2, [3, [4]]]].flat(2), Object.fromEntries([["a", 1], ["b", 2]]), Object.groupBy ? "groupBy" : "no groupBy"]));
const ta = new Float64Array([3.5, -1, 2]); ta.sort(); log(Array.from(ta).join(","), new Uint8Array(new Uint16Array([258, 513]).buffer).join(","));

section("generators");
function* take(it, n) { for (const x of it) { if (n-- <= 0) return; yield x; } }
function* naturals() { let i = 0; for (;;) yield i++; }
log([...take(naturals(), 5)].join(","), [...take((function* () { yield* [9, 8]; yield 7; })(), 10)].join(","));
const [a1, , b1 = 5, ...rest1] = [1, 2, undefined, 4, 5];
const { x: xx, ...others } = { x: 1, y: 2, z: 3 };
log(a1, b1, rest1, xx, JSON.stringify(others), null ?? "dflt", undefined?.foo);

section("async");
const order = [];
async function worker(name, steps) {
  for (let i = 0; i < steps; i++) { order.push(`${name}${i}`); await null; }
  return name.toUpperCase();
}
const results = await Promise.all([worker("a", 3), worker("b", 2), Promise.resolve("c")]);
log(results.join(","), order.join(" "));
const settled = await Promise.allSettled([Promise.reject(new Error("nope")), 1]);
log(settled.map((r) => r.status + ":" + (r.value ?? r.reason.message)).join(" "));
try { await (async () => { throw new TypeError("bad type"); })(); } catch (e) { log("caught", e.name, e.message); }

section("errors");
try { null.x; } catch (e) { log(e instanceof TypeError, e.constructor.name); }
try { JSON.parse("{bad"); } catch (e) { log(e.name); }
try { BigInt(1.5); } catch (e) { log(e.name); }
log(String(new RangeError("r")), (() => { try { return "try"; } finally { log("finally runs"); } })());

// --- files in the preopened directory (WASI) -------------------------------------------
section("files");
const dir = "/work/out";
log("mkdir", os.mkdir(dir, 0o755));
const f = std.open(dir + "/hello.txt", "w");
for (let i = 0; i < 50; i++) f.puts(`${String(i).padStart(3, "0")} h\u00e9llo\n`);
f.close();
const content = std.loadFile(dir + "/hello.txt");
log("lines", content.split("\n").length - 1, "first", JSON.stringify(content.split("\n")[0]), "bytes", os.stat(dir + "/hello.txt")[0].size);
const fa = std.open(dir + "/hello.txt", "a"); fa.puts("appended\n"); fa.close();
const fr = std.open(dir + "/hello.txt", "r");
fr.seek(-9, std.SEEK_END);
log("tail", JSON.stringify(fr.getline()), "tell", fr.tell());
fr.close();
std.writeFile(dir + "/data.json", JSON.stringify({ primes: primes.slice(0, 10) }));
log("readback", JSON.parse(std.loadFile(dir + "/data.json")).primes.join(","));
log("rename", os.rename(dir + "/data.json", dir + "/moved.json"), "remove", os.remove(dir + "/hello.txt"));
const [entries, err] = os.readdir(dir);
log("readdir", err, JSON.stringify(entries.filter((e) => e[0] !== ".").sort()));
log("missing", std.open(dir + "/missing.txt", "r"), std.loadFile(dir + "/missing.txt"));
log("stat dir", (os.stat(dir)[0].mode & os.S_IFMT) === os.S_IFDIR);

section("done");
log("done");
