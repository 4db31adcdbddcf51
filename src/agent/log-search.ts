// Log requests (docs/logs.md "Logs on demand"): the control plane asks for a site's recent
// access-log lines matching a filter, and the agent reads them from its rotated JSON log
// (access.json, then access.json.1 …). Filtered here, on the edge; bounded in lines, in bytes
// sent and in bytes read, so a request costs the edge little however big its logs are.
//   - without a cursor: the newest matching lines, read backwards from the end;
//   - with a cursor (`--follow`): the matching lines written since that point, across a
//     rotation in between (the cursor names the file by its inode).
import { open, stat } from 'node:fs/promises';
import {
  AccessLogLine,
  logLineMatches,
  MAX_LOG_ANSWER_BYTES,
  MAX_LOG_SCAN_BYTES,
  type EdgeLogAnswer,
  type LogCursor,
  type LogRequest,
} from '../spec/index.js';
import { MAX_LINE_BYTES, READ_CHUNK_BYTES } from './log-tail.js';

export interface LogSearchBounds {
  /** Most bytes of lines sent back. */
  answerBytes: number;
  /** Most bytes read through the files. */
  scanBytes: number;
  chunkBytes: number;
}

const BOUNDS: LogSearchBounds = {
  answerBytes: MAX_LOG_ANSWER_BYTES,
  scanBytes: MAX_LOG_SCAN_BYTES,
  chunkBytes: READ_CHUNK_BYTES,
};

interface LogFile {
  path: string;
  ino: number;
  size: number;
}

/** The live log and its rotated files, newest first (those that exist). */
async function logFiles(path: string, keep: number): Promise<LogFile[]> {
  const files: LogFile[] = [];
  for (let n = 0; n <= keep; n++) {
    const p = n === 0 ? path : `${path}.${n}`;
    const s = await stat(p).catch(() => undefined);
    if (s?.isFile()) files.push({ path: p, ino: s.ino, size: s.size });
  }
  return files;
}

/** The parsed line when it is the site's and matches the filter. */
function matching(raw: string, req: LogRequest, siteKey: string): AccessLogLine | undefined {
  if (!raw.includes(siteKey)) return undefined; // cheap: most lines are another site's
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const line = AccessLogLine.safeParse(json);
  return line.success && logLineMatches(line.data, req.site, req.filter) ? line.data : undefined;
}

/** Answers one log request from the log at `path` (and its `keep` rotated files). */
export async function searchLog(
  path: string,
  keep: number,
  req: LogRequest,
  bounds: LogSearchBounds = BOUNDS,
): Promise<EdgeLogAnswer> {
  const files = await logFiles(path, keep);
  const live = files[0]?.path === path ? files[0] : undefined;
  const siteKey = `"site":${JSON.stringify(req.site)}`;
  if (req.after === undefined) return newest(files, live, req, siteKey, bounds);
  return since(files, live, req.after, req, siteKey, bounds);
}

/** The newest matching lines, reading each file backwards from its end. */
async function newest(
  files: LogFile[],
  live: LogFile | undefined,
  req: LogRequest,
  siteKey: string,
  bounds: LogSearchBounds,
): Promise<EdgeLogAnswer> {
  const found: AccessLogLine[] = []; // newest first
  let bytes = 0;
  let scanned = 0;
  let truncated = false;
  outer: for (const f of files) {
    const file = await open(f.path, 'r');
    try {
      let pos = f.size;
      let carry = '';
      while (pos > 0 || carry !== '') {
        let lines: string[];
        if (pos > 0) {
          if (scanned >= bounds.scanBytes) {
            truncated = true;
            break outer;
          }
          const len = Math.min(bounds.chunkBytes, pos);
          const buffer = Buffer.alloc(len);
          await file.read(buffer, 0, len, pos - len);
          pos -= len;
          scanned += len;
          lines = (buffer.toString('utf8') + carry).split('\n');
          carry = pos > 0 ? (lines.shift() ?? '') : '';
          if (carry.length > MAX_LINE_BYTES) carry = '';
        } else {
          lines = [carry];
          carry = '';
        }
        for (let i = lines.length - 1; i >= 0; i--) {
          const raw = lines[i] ?? '';
          if (raw === '') continue;
          const line = matching(raw, req, siteKey);
          if (line === undefined) continue;
          if (found.length >= req.limit || bytes + raw.length > bounds.answerBytes) {
            truncated = true;
            break outer;
          }
          found.push(line);
          bytes += raw.length + 1;
        }
      }
    } finally {
      await file.close();
    }
  }
  return {
    id: req.id,
    lines: found.reverse(),
    cursor: { file: live?.ino ?? 0, offset: live?.size ?? 0 },
    truncated,
    error: null,
  };
}

/** The matching lines written after `after`, oldest first (the newest kept within bounds). */
async function since(
  files: LogFile[],
  live: LogFile | undefined,
  after: LogCursor,
  req: LogRequest,
  siteKey: string,
  bounds: LogSearchBounds,
): Promise<EdgeLogAnswer> {
  // What to read, oldest first: the rest of the file the cursor is in, then every newer file.
  const at = files.findIndex((f) => f.ino === after.file);
  const ranges: { file: LogFile; from: number; cut: boolean }[] = [];
  if (at < 0) {
    if (live) ranges.push({ file: live, from: 0, cut: false }); // rotated away beyond keep: the live file
  } else {
    for (let i = at; i >= 0; i--) {
      const file = files[i];
      if (file === undefined) continue;
      const from = i === at && after.offset <= file.size ? after.offset : 0;
      ranges.push({ file, from, cut: false });
    }
  }
  // Bounded reads: beyond the scan budget, the oldest part is skipped (and said so).
  let total = ranges.reduce((n, r) => n + r.file.size - r.from, 0);
  let truncated = false;
  while (total > bounds.scanBytes && ranges.length > 0) {
    const first = ranges[0];
    if (first === undefined) break;
    truncated = true;
    const skip = Math.min(total - bounds.scanBytes, first.file.size - first.from);
    first.from += skip;
    first.cut = true;
    total -= skip;
    if (first.from >= first.file.size) ranges.shift();
  }
  const found: { line: AccessLogLine; bytes: number }[] = [];
  let bytes = 0;
  let end = live?.size ?? 0;
  for (const r of ranges) {
    const file = await open(r.file.path, 'r');
    try {
      let pos = r.from;
      let rest = '';
      let first = r.cut; // a scan skip lands mid-line: that line's tail is dropped
      while (pos < r.file.size) {
        const len = Math.min(bounds.chunkBytes, r.file.size - pos);
        const buffer = Buffer.alloc(len);
        const { bytesRead } = await file.read(buffer, 0, len, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        const lines = (rest + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        if (rest.length > MAX_LINE_BYTES) rest = '';
        for (const raw of lines) {
          if (first) {
            first = false;
            continue;
          }
          if (raw === '') continue;
          const line = matching(raw, req, siteKey);
          if (line === undefined) continue;
          found.push({ line, bytes: raw.length + 1 });
          bytes += raw.length + 1;
          while (found.length > req.limit || bytes > bounds.answerBytes) {
            bytes -= found.shift()?.bytes ?? 0;
            truncated = true;
          }
        }
      }
      // A line the proxy has not finished writing waits for the next request.
      if (r.file === live) end = pos - Buffer.byteLength(rest);
    } finally {
      await file.close();
    }
  }
  return {
    id: req.id,
    lines: found.map((f) => f.line),
    cursor: { file: live?.ino ?? 0, offset: live ? end : 0 },
    truncated,
    error: null,
  };
}
