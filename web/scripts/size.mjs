// Prints the gzip size of the first page (index.html plus the scripts and styles it loads
// before anything else: its entry, its modulepreloads and stylesheets) and of the whole app
// (every file of web/dist, lazily loaded chunks, GraphiQL's editor and its workers included).
// Run after `npm run build`: `npm run size`.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');

async function files(dir) {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? files(path.join(dir, entry.name)) : [path.join(dir, entry.name)])));
  return nested.flat();
}

const gzipped = async (file) => gzipSync(await readFile(file), { level: 9 }).length;
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

const html = await readFile(path.join(dist, 'index.html'), 'utf8');
const firstPage = ['index.html', ...[...html.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((match) => match[1])];
let first = 0;
for (const file of firstPage) first += await gzipped(path.join(dist, file));
let whole = 0;
let raw = 0;
const all = await files(dist);
for (const file of all) {
  whole += await gzipped(file);
  raw += (await readFile(file)).length;
}
console.log(`first page (gzip): ${kb(first)}  [${firstPage.join(', ')}]`);
console.log(`whole app (gzip):  ${kb(whole)}  (${all.length} files, ${kb(raw)} uncompressed)`);
