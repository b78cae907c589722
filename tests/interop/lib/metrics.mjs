// Minimal Prometheus text-format reader: { name -> sum of its samples over all label sets }.
export function parseMetrics(text) {
  const sums = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    sums.set(m[1], (sums.get(m[1]) ?? 0) + value);
  }
  return sums;
}

// Sum of the metrics whose names are in `names`; when none of them exist, of every metric whose name
// matches `fallback`. Returns { total, used: [names] } so a test can print what it looked at.
export function sumMetrics(sums, names, fallback) {
  let used = names.filter((n) => sums.has(n));
  if (used.length === 0) used = [...sums.keys()].filter((n) => fallback.test(n));
  return { total: used.reduce((acc, n) => acc + sums.get(n), 0), used };
}
