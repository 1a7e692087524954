import { TimeSlices } from './time-slices.js';

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. Enough for CRM exports and our own exports. */
export function parseCsv(text: string): string[][] {
  return [...csvRows(text)];
}

/** parseCsv for large texts (a 5 MB import): the same rows, parsed in slices that yield to the event loop. */
export async function parseCsvSliced(text: string, slices: TimeSlices = new TimeSlices()): Promise<string[][]> {
  const rows: string[][] = [];
  for (const row of csvRows(text)) {
    rows.push(row);
    if (slices.due()) await slices.next();
  }
  return rows;
}

/** The rows one at a time, blank lines skipped; throws at the end on an unterminated quoted field. */
function* csvRows(text: string): Generator<string[]> {
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const end = (r: string[]): boolean => !(r.length === 1 && r[0] === '');
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // Excel's BOM
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      // Copy up to the next quote at once: fields are appended a run at a time, not a character at a time.
      const q = text.indexOf('"', i);
      if (q < 0) {
        field += text.slice(i);
        i = text.length;
      } else {
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          quoted = false;
          i = q + 1;
        }
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\n' || c === '\r') {
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      row.push(field);
      if (end(row)) yield row;
      row = [];
      field = '';
    } else {
      let j = i + 1;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === 44 || d === 10 || d === 13) break; // , \n \r
        j++;
      }
      field += text.slice(i, j);
      i = j;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    if (end(row)) yield row;
  }
}

export function formatCsv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<unknown>>): string {
  const cell = (v: unknown): string => {
    const s = v === undefined || v === null ? '' : String(v);
    // Quote what needs it, and neutralise spreadsheet formulas (CSV injection).
    const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    return /[",\r\n]/.test(safe) || safe !== s ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
