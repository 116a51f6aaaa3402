// A JavaScript workload of about a second for QuickJS, whose interpreter's functions get
// hot in turn: recursion, then sorting, then string building and JSON. The README's
// picture of the tier timeline is this program's (`tierup run --tier-report=FILE.svg`).
const fib = (n) => (n < 2 ? n : fib(n - 1) + fib(n - 2));
let sum = 0;
for (let i = 0; i < 25; i++) sum += fib(i);
const data = Array.from({ length: 20000 }, (_, i) => (i * 7919) % 10007);
for (let round = 0; round < 12; round++) data.slice().sort((a, b) => a - b);
let text = "";
for (let i = 0; i < 100000; i++) text += String.fromCharCode(97 + (i % 26));
const parsed = JSON.parse(JSON.stringify({ sum, n: data.length, text: text.slice(0, 8) }));
console.log(parsed.sum, parsed.n, parsed.text);
