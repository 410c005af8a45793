/** Self-describing values for concurrency tests: `key|writer|seq|len|checksum|padding`. */

export function makeValue(key: string, writer: number, seq: number, padding: number): string {
  const body = `${key}|${writer}|${seq}|${padding}|`;
  const fill = String.fromCharCode(97 + ((writer + seq) % 26)).repeat(padding);
  return `${body}${checksum(body + fill)}|${fill}`;
}

/** Returns a description of what is wrong with `value` read under `key`, or undefined if it is whole. */
export function checkValue(key: string, value: string): string | undefined {
  const parts = value.split('|');
  if (parts.length !== 6) return `${key}: malformed value ${JSON.stringify(value.slice(0, 60))}`;
  const [k, writer, seq, padding, sum, fill] = parts as [string, string, string, string, string, string];
  if (k !== key) return `${key}: value written for ${k}`;
  if (fill.length !== Number(padding)) return `${key}: padding ${fill.length}, expected ${padding}`;
  if (checksum(`${k}|${writer}|${seq}|${padding}|${fill}`) !== sum) return `${key}: checksum mismatch`;
  return undefined;
}

/** What is wrong with the metadata read with a whole `value` (the stress writers set it to `writer.seq`), or undefined. */
export function checkMeta(key: string, value: string, meta: string | undefined): string | undefined {
  const [, writer, seq] = value.split('|');
  return meta === `${writer}.${seq}` ? undefined : `${key}: metadata ${JSON.stringify(meta)} read with the value of write ${writer}.${seq}`;
}

function checksum(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
