// Keeps the documentation self-contained about requirement and case ids: every id cited in the sources,
// scripts, tests and docs (AS-7, RS-12, C-6, CIMD-3, REG-01, ...; a range such as REG-02..08 cites
// every id in it) needs a definition line `- **ID** — text` in docs/REQUIREMENTS.md or docs/SECURITY.md,
// and nothing may point at design documents a user of the package cannot read, or at issue numbers.
//
//   node scripts/ids.mjs                          exits 1 and lists what is wrong
//   --root=DIR --requirements=PATH --security=PATH  check another tree or other documents (the test uses them)
// Plain file reads and regular expressions: no parser, so it runs in well under a second.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCANNED_DIRECTORIES = ['lib', 'lambda', 'local', 'scripts', 'test', 'docs', 'bin'];
const SCANNED_FILES = ['README.md', 'CHANGELOG.md', 'package.json'];
const TEXT_FILE = /\.(ts|tsx|mts|cts|js|mjs|cjs|json|md|html|txt|sh|ya?ml)$/;
const SKIPPED_DIRECTORIES = new Set(['node_modules', '__snapshots__', 'dist', '.jest-cache', 'cdk.out']);
/** This checker and its test spell out the forbidden references in order to look for them. */
const SELF = ['scripts/ids.mjs', 'test/docs/ids.test.ts'];

const FAMILIES = 'AS|RS|C|CIMD|REV|MRS|REG|AZR|PKCE|CODE|CAUTH|RT|CONS|UPS|JWT|RES|META|ROB|FAULT|SSRF|INFRA|AUDIT';
const ID = new RegExp(`\\b(${FAMILIES})-(\\d+)\\b`, 'g');
/** `REG-02..08`, `C-1..C-5`, `JWT-01 to JWT-12`. */
const RANGE = new RegExp(`\\b(${FAMILIES})-(\\d+)(?:\\.\\.| to )(?:\\1-)?(\\d+)\\b`, 'g');
const DEFINITION = new RegExp(`^- \\*\\*((?:${FAMILIES})-\\d+)\\*\\* — (.*)$`, 'gm');

/** What a user of the package cannot resolve: the team's design documents, and tracker issue numbers. */
const FORBIDDEN = [
  [/SPEC\.md|\bSPEC\b/, 'the requirements document outside the repository (define the id in docs/REQUIREMENTS.md)'],
  [/SECURITY-CATALOGUE/, 'the security catalogue outside the repository (docs/REQUIREMENTS.md defines its cases)'],
  [/DESIGN\.md|STYLE\.md|\bDESIGN\b/, 'a design document outside the repository (docs/REQUIREMENTS.md, "Design decisions")'],
  [/[Cc]atalogue decision/, 'a catalogue decision (docs/SECURITY.md, section 2)'],
  [/\.\.\/shared\/[A-Z]|\/work\/shared/, 'the shared design folder outside the repository'],
  // Singular only: "the endpoint issues 2 tokens" is prose, "issue 3 builds that flow" a tracker reference.
  [/\b[Ii]ssue #?\d+|\bas in #\d+/, 'an issue number (say what the code does instead)'],
];

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

function textFiles(root) {
  const walk = (dir) =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return SKIPPED_DIRECTORIES.has(name) ? [] : walk(path);
      return TEXT_FILE.test(name) ? [path] : [];
    });
  const exists = (path) => {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  };
  return [
    ...SCANNED_DIRECTORIES.map((dir) => join(root, dir)).filter(exists).flatMap(walk),
    ...SCANNED_FILES.map((file) => join(root, file)).filter(exists),
  ].sort();
}

/** Every id a text cites, ranges expanded (an id keeps the width of its range's first number). */
export function citedIds(text) {
  const ids = new Set([...text.matchAll(ID)].map((match) => match[0]));
  for (const [, family, from, to] of text.matchAll(RANGE)) {
    for (let n = Number(from); n <= Number(to); n++) ids.add(`${family}-${String(n).padStart(from.length, '0')}`);
  }
  return ids;
}

/** The definition lines of a document: id → text. */
export function definitions(markdown) {
  return [...markdown.matchAll(DEFINITION)].map((match) => ({ id: match[1], text: match[2].trim() }));
}

const read = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

export function checkIds({ root = ROOT, requirements, security } = {}) {
  const requirementsPath = requirements ?? join(root, 'docs/REQUIREMENTS.md');
  const securityPath = security ?? join(root, 'docs/SECURITY.md');
  const defined = new Map();
  const duplicates = [];
  const unsourced = [];
  for (const [path, needsSource] of [[requirementsPath, true], [securityPath, false]]) {
    for (const { id, text } of definitions(read(path))) {
      if (defined.has(id)) duplicates.push(id);
      defined.set(id, text);
      // docs/REQUIREMENTS.md says where each id comes from: the line ends with its source in parentheses.
      if (needsSource && !/\([^()]+\)\.?$/.test(text)) unsourced.push(id);
    }
  }
  const citations = new Map();
  const forbidden = [];
  for (const file of textFiles(root)) {
    const name = relative(root, file).split(sep).join('/');
    const text = readFileSync(file, 'utf8');
    for (const id of citedIds(text)) citations.set(id, [...(citations.get(id) ?? []), name]);
    if (SELF.includes(name)) continue;
    text.split('\n').forEach((line, index) => {
      for (const [pattern, what] of FORBIDDEN) {
        if (pattern.test(line)) forbidden.push({ file: name, line: index + 1, what, text: line.trim() });
      }
    });
  }
  const undefinedIds = [...citations.keys()].filter((id) => !defined.has(id)).sort(byId);
  return { cited: citations, defined, undefinedIds, duplicates, unsourced, forbidden };
}

function byId(a, b) {
  const [fa, na] = a.split('-');
  const [fb, nb] = b.split('-');
  return fa === fb ? Number(na) - Number(nb) : fa.localeCompare(fb);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const option = (name) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const result = checkIds({ root: option('root'), requirements: option('requirements'), security: option('security') });
  console.log(
    `${result.cited.size} ids cited, ${result.defined.size} defined, ${result.undefinedIds.length} undefined, ` +
      `${result.forbidden.length} references outside the repository`,
  );
  for (const id of result.undefinedIds) console.log(`undefined: ${id} (cited in ${result.cited.get(id).join(', ')})`);
  if (result.duplicates.length) console.log(`defined more than once: ${result.duplicates.join(' ')}`);
  if (result.unsourced.length) console.log(`definitions without a source in parentheses: ${result.unsourced.join(' ')}`);
  for (const f of result.forbidden) console.log(`${f.file}:${f.line}: ${f.what}: ${f.text}`);
  const failed = result.undefinedIds.length || result.duplicates.length || result.unsourced.length || result.forbidden.length;
  process.exitCode = failed ? 1 : 0;
}
