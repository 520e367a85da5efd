// Character-level differences between two values, by the longest common
// subsequence over Unicode code points (so 髙 vs 高 is one character, and
// an emoji or a surrogate pair is never split). Pure: no DOM.

/**
 * diffChars('(株)ABC', '株式会社ABC') →
 *   [[{text:'(', same:false}, {text:'株', same:true}, …], [{text:'株', same:true}, {text:'式会社', same:false}, …]]
 * Runs of equal sameness are joined. Empty or missing values give [].
 */
export function diffChars(a, b) {
  const x = Array.from(a || '');
  const y = Array.from(b || '');
  // Long values (addresses with buildings are < 100 chars) keep this small;
  // beyond 2,000 characters a side, mark everything as different rather
  // than build a 4M-cell table.
  if (x.length * y.length > 4_000_000) {
    return [runs(x.map((c) => [c, false])), runs(y.map((c) => [c, false]))];
  }
  const n = x.length;
  const m = y.length;
  // L[i][j] = LCS length of x[i..] and y[j..], as one flat array.
  const w = m + 1;
  const L = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      L[i * w + j] = x[i] === y[j] ? L[(i + 1) * w + j + 1] + 1 : Math.max(L[(i + 1) * w + j], L[i * w + j + 1]);
    }
  }
  const ka = [];
  const kb = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      ka.push([x[i++], true]);
      kb.push([y[j++], true]);
    } else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) {
      ka.push([x[i++], false]);
    } else {
      kb.push([y[j++], false]);
    }
  }
  while (i < n) ka.push([x[i++], false]);
  while (j < m) kb.push([y[j++], false]);
  return [runs(ka), runs(kb)];
}

function runs(chars) {
  const out = [];
  for (const [c, same] of chars) {
    const last = out[out.length - 1];
    if (last && last.same === same) last.text += c;
    else out.push({ text: c, same });
  }
  return out;
}

/** The server's mask character: a viewer sees `山＊＊＊` for `山田太郎`. */
export const MASK = '＊';

/**
 * How alike two values are: 1 − (edit distance ÷ the longer length),
 * counted over code points (Levenshtein: insert, delete, substitute, each
 * 1). 1 for two equal values, 0 when nothing lines up or a side is empty.
 * Pure. Values longer than 2,000 code points a side are not measured (0).
 */
export function similarity(a, b) {
  const x = Array.from(a || '');
  const y = Array.from(b || '');
  const longest = Math.max(x.length, y.length);
  if (longest === 0) return 1;
  if (x.length === 0 || y.length === 0 || x.length * y.length > 4_000_000) return 0;
  // One row of the edit-distance table at a time.
  let prev = new Uint32Array(y.length + 1);
  let cur = new Uint32Array(y.length + 1);
  for (let j = 0; j <= y.length; j++) prev[j] = j;
  for (let i = 1; i <= x.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const sub = prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1);
      cur[j] = Math.min(sub, prev[j] + 1, cur[j - 1] + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return 1 - prev[y.length] / longest;
}

/** Below this similarity two values are shown plain: marking the few
 * characters that happen to line up (`rkinoshita759` / `toshio.ueda89`)
 * says nothing a steward can use. */
export const DIFF_MIN_SIMILARITY = 0.5;

/**
 * Whether a character diff of `a` and `b` means something: both present,
 * neither masked (a highlight on asterisks shows where the mask is, not
 * where the values differ), and at least DIFF_MIN_SIMILARITY alike.
 */
export function diffWorthShowing(a, b) {
  if (!a || !b) return false;
  if (a.includes(MASK) || b.includes(MASK)) return false;
  return similarity(a, b) >= DIFF_MIN_SIMILARITY;
}
