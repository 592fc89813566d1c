// Maps every case id of the security catalogue to the tests whose titles name it, and to the reasons
// docs/SECURITY.md gives for the cases that do not apply. Titles are read with the TypeScript parser
// (describe/it/test, including `.each`), so a comment mentioning an id does not count as coverage.
//
//   node scripts/security-map.mjs            prints the markdown table for docs/SECURITY.md
//   node scripts/security-map.mjs --write    replaces the table between the markers in docs/SECURITY.md
//   node scripts/security-map.mjs --check    exits 1 when an id has neither a test nor a reason
//   node scripts/security-map.mjs --json     the map as JSON
//   --doc=PATH reads the reasons from another document (the map test uses it to see --check fail)
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CATALOGUE_COUNTS = [
  ['REG', 19], ['AZR', 18], ['PKCE', 11], ['CODE', 11], ['CAUTH', 6], ['RT', 9], ['CONS', 6], ['UPS', 6],
  ['JWT', 21], ['RES', 3], ['META', 4], ['ROB', 9], ['FAULT', 10], ['SSRF', 6], ['INFRA', 9], ['AUDIT', 4],
  // Cases an independent review reproduced beyond the catalogue (docs/SECURITY.md, section 2.9).
  ['REV', 14],
  // One authorization server in front of several MCP servers (docs/SECURITY.md, section 2.10).
  ['MRS', 13],
];
const ID = /\b(REG|AZR|PKCE|CODE|CAUTH|RT|CONS|UPS|JWT|RES|META|ROB|FAULT|SSRF|INFRA|AUDIT|REV|MRS)-(\d{2})\b/g;

/** The 152 catalogue ids, the 14 review ids and the 13 fleet ids, in order. */
export function catalogueIds() {
  return CATALOGUE_COUNTS.flatMap(([prefix, count]) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`));
}

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === '__snapshots__' ? [] : testFiles(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const TEST_FUNCTIONS = new Set(['describe', 'it', 'test']);

/** `it`, `it.each(table)`, `describe.skip`, ... → the base name, or undefined. */
function testFunction(callee) {
  let node = callee;
  for (;;) {
    if (ts.isIdentifier(node)) return TEST_FUNCTIONS.has(node.text) ? node.text : undefined;
    if (ts.isPropertyAccessExpression(node)) node = node.expression;
    else if (ts.isCallExpression(node)) node = node.expression;
    else return undefined;
  }
}

function titleText(node, source) {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  return node.getText(source).replace(/^`|`$/g, '');
}

/** Every test title of one file, each with the titles of its enclosing describes. */
export function titlesOf(path) {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const titles = [];
  const visit = (node, parents) => {
    if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const kind = testFunction(node.expression);
      if (kind) {
        const title = titleText(node.arguments[0], source);
        if (kind === 'describe') {
          node.arguments.slice(1).forEach((argument) => visit(argument, [...parents, title]));
          return;
        }
        titles.push({ title, describes: parents });
        return;
      }
    }
    ts.forEachChild(node, (child) => visit(child, parents));
  };
  visit(source, []);
  return titles;
}

/** The reasons docs/SECURITY.md gives for cases that cannot apply: lines `- **ID** n/a: reason`. */
export function documentedReasons(markdown) {
  const reasons = new Map();
  for (const match of markdown.matchAll(/^- \*\*([A-Z]+-\d{2})\*\* n\/a: (.+)$/gm)) reasons.set(match[1], match[2].trim());
  return reasons;
}

const START = '<!-- security-map:start -->';
const END = '<!-- security-map:end -->';

export function securityMap(docPath = join(ROOT, 'docs/SECURITY.md')) {
  const tests = new Map(catalogueIds().map((id) => [id, []]));
  const unknown = [];
  for (const file of testFiles(join(ROOT, 'test')).sort()) {
    for (const { title, describes } of titlesOf(file)) {
      const full = [...describes, title].join(' › ');
      // An id counts for a test when the test's own title or one of its describes names it.
      for (const [id] of full.matchAll(ID)) {
        if (!tests.has(id)) unknown.push({ id, file, title: full });
        else if (!tests.get(id).some((t) => t.file === relative(ROOT, file) && t.title === full)) {
          tests.get(id).push({ file: relative(ROOT, file).split(sep).join('/'), title: full });
        }
      }
    }
  }
  let markdown = '';
  try {
    markdown = readFileSync(docPath, 'utf8');
  } catch {
    // no document yet: every case needs a test
  }
  const reasons = documentedReasons(markdown);
  return { tests, reasons, unknown };
}

function table({ tests, reasons }) {
  const escape = (text) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const shorten = (text) => (text.length > 120 ? `${text.slice(0, 117)}...` : text);
  const rows = ['| Case | Tests (file: first title; the number of titles naming the id) |', '|---|---|'];
  for (const id of catalogueIds()) {
    const found = tests.get(id);
    if (found.length === 0) {
      rows.push(`| ${id} | ${reasons.has(id) ? `n/a: ${escape(reasons.get(id))}` : '**MISSING**'} |`);
      continue;
    }
    const byFile = new Map();
    for (const t of found) byFile.set(t.file, [...(byFile.get(t.file) ?? []), t.title]);
    const cells = [...byFile].map(([file, titles]) => `\`${file}\`: “${escape(shorten(titles[0]))}”${titles.length > 1 ? ` (${titles.length})` : ''}`);
    rows.push(`| ${id} | ${cells.join('<br>')} |`);
  }
  return rows.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const docArgument = process.argv.find((arg) => arg.startsWith('--doc='));
  const docPath = docArgument ? docArgument.slice('--doc='.length) : join(ROOT, 'docs/SECURITY.md');
  const map = securityMap(docPath);
  const missing = catalogueIds().filter((id) => map.tests.get(id).length === 0 && !map.reasons.has(id));
  const both = catalogueIds().filter((id) => map.tests.get(id).length > 0 && map.reasons.has(id));
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ tests: Object.fromEntries(map.tests), reasons: Object.fromEntries(map.reasons), missing }, null, 2));
  } else if (process.argv.includes('--check')) {
    const covered = catalogueIds().filter((id) => map.tests.get(id).length > 0).length;
    console.log(`${covered} ids covered by tests, ${map.reasons.size} documented n/a, ${missing.length} missing`);
    if (missing.length) console.log(`missing: ${missing.join(' ')}`);
    if (both.length) console.log(`both a test and an n/a reason (drop the reason): ${both.join(' ')}`);
    if (map.unknown.length) console.log(`titles naming ids outside the catalogue: ${map.unknown.map((u) => `${u.id} (${u.file})`).join(', ')}`);
    process.exitCode = missing.length || both.length || map.unknown.length ? 1 : 0;
  } else if (process.argv.includes('--write')) {
    const markdown = readFileSync(docPath, 'utf8');
    const start = markdown.indexOf(START);
    const end = markdown.indexOf(END);
    if (start === -1 || end < start) throw new Error(`${docPath} has no ${START} ... ${END} markers`);
    writeFileSync(docPath, `${markdown.slice(0, start + START.length)}\n${table(map)}\n${markdown.slice(end)}`);
  } else {
    console.log(table(map));
  }
}
