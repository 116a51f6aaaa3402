// A small JavaScript program for QuickJS: closures, arrays, JSON, string formatting.
const fib = (n) => (n < 2 ? n : fib(n - 1) + fib(n - 2));
const table = Array.from({ length: 20 }, (_, i) => fib(i));
console.log("fib:", table.join(" "));
console.log(JSON.stringify({ sum: table.reduce((a, b) => a + b, 0), max: Math.max(...table) }));
console.log([..."wasi"].reverse().join("").toUpperCase());
