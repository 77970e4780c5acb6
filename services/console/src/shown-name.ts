import path from 'node:path';

// What a client of the console sees of a file it reads: the base name, never the absolute path
// (issue #12 §8). The full path goes to the console's log and its start-up banner only.

/** The base name of `file`, as pages and the JSON API show it. */
export function shownName(file: string): string {
  return path.basename(file);
}

/** `text` (an error message) with `file` cut to its base name and its directory left out. */
export function withoutPath(text: string, file: string): string {
  const dir = path.dirname(file);
  const out = text.split(file).join(shownName(file));
  return dir === '.' || dir === path.sep ? out : out.split(dir).join('…');
}
