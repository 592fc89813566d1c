import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The documentation is self-contained about ids: every requirement or case id cited in the sources,
 * scripts, tests and docs has a definition line `- **ID** — text (source)` in docs/REQUIREMENTS.md (or,
 * for the review cases, docs/SECURITY.md), and nothing points at design documents outside the
 * repository or at issue numbers. scripts/ids.mjs does the check with plain file reads.
 */

const run = (...args: string[]) => spawnSync(process.execPath, ['scripts/ids.mjs', ...args], { encoding: 'utf8' });

/** A throw-away repository tree: path → content. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'ids-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function inTree<T>(files: Record<string, string>, check: (root: string) => T): T {
  const root = tree(files);
  try {
    return check(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('every id cited in the repository is defined, and nothing references documents outside it', () => {
  const result = run();
  expect(result.stdout).toMatch(/^\d+ ids cited, \d+ defined, 0 undefined, 0 references outside the repository\n/);
  expect(result.status).toBe(0);
});

test('each case of the security map in docs/SECURITY.md has its definition: 152 in docs/REQUIREMENTS.md, the review and fleet cases in SECURITY.md', () => {
  const security = readFileSync('docs/SECURITY.md', 'utf8');
  const map = security.slice(security.indexOf('<!-- security-map:start -->'), security.indexOf('<!-- security-map:end -->'));
  const ids = [...map.matchAll(/^\| ([A-Z]+-\d{2}) \|/gm)].map((match) => match[1]);
  // REV-* (section 2.9) and MRS-* (section 2.10) are defined in SECURITY.md itself.
  const ownCase = (id: string) => id.startsWith('REV-') || id.startsWith('MRS-');
  const cases = ids.filter((id) => !ownCase(id));
  const defined = new Set([...readFileSync('docs/REQUIREMENTS.md', 'utf8').matchAll(/^- \*\*([A-Z]+-\d+)\*\* — /gm)].map((match) => match[1]));
  expect(cases).toHaveLength(152);
  expect(cases.filter((id) => !defined.has(id))).toEqual([]);
  // Their definitions are checked with every other cited id (scripts/ids.mjs, the first test).
  expect(ids.filter(ownCase)).toHaveLength(14 + 13);
});

test('the check fails for a cited id without a definition, and names the file citing it', () => {
  const result = inTree(
    {
      'lib/a.ts': '// AS-1 and RS-12 apply here (JWT-07).\n',
      'docs/REQUIREMENTS.md': '# no definitions\n- **AS-1** — defined (OAuth 2.1 §4.1.1)\n',
    },
    (root) => run(`--root=${root}`),
  );
  expect(result.status).toBe(1);
  expect(result.stdout).toMatch(/^3 ids cited, 1 defined, 2 undefined/);
  expect(result.stdout).toContain('undefined: JWT-07 (cited in lib/a.ts)');
  expect(result.stdout).toContain('undefined: RS-12 (cited in lib/a.ts)');
  expect(result.stdout).not.toContain('undefined: AS-1 ');
});

test('a range cites every id in it, and ids in test titles count', () => {
  const result = inTree(
    {
      'test/x.test.ts': "test('REG-01..03 and C-1..C-3 are refused', () => {});\n",
      'docs/REQUIREMENTS.md': ['REG-01', 'REG-03', 'C-1', 'C-3'].map((id) => `- **${id}** — defined (RFC 7591 §2)`).join('\n'),
    },
    (root) => run(`--root=${root}`),
  );
  expect(result.status).toBe(1);
  expect(result.stdout).toContain('undefined: C-2 (cited in test/x.test.ts)');
  expect(result.stdout).toContain('undefined: REG-02 (cited in test/x.test.ts)');
});

test('definitions count from docs/SECURITY.md too; a definition needs a source, and only one place defines an id', () => {
  const passing = inTree(
    {
      'lib/a.ts': "// REV-01 and AS-1; the token endpoint issues 2 tokens\nimport { x } from '../shared/crypto';\n",
      'docs/REQUIREMENTS.md': '- **AS-1** — defined (OAuth 2.1 §4.1.1)\n',
      'docs/SECURITY.md': '## Review cases\n\n- **REV-01** — found in review\n',
    },
    (root) => run(`--root=${root}`),
  );
  expect(passing.stdout).toMatch(/^2 ids cited, 2 defined, 0 undefined, 0 references/);
  expect(passing.status).toBe(0);

  const failing = inTree(
    {
      'lib/a.ts': '// AS-1 and AS-2\n',
      'docs/REQUIREMENTS.md': '- **AS-1** — defined (OAuth 2.1 §4.1.1)\n- **AS-2** — no source given\n',
      'docs/SECURITY.md': '- **AS-1** — defined again\n',
    },
    (root) => run(`--root=${root}`),
  );
  expect(failing.status).toBe(1);
  expect(failing.stdout).toContain('defined more than once: AS-1');
  expect(failing.stdout).toContain('definitions without a source in parentheses: AS-2');
});

test.each([
  ['the requirements document', 'see SPEC.md for AS-1'],
  ['the catalogue', 'as SECURITY-CATALOGUE.md says'],
  ['a design decision', 'chosen in DESIGN decision 3'],
  ['a catalogue decision', 'per catalogue decision 1'],
  ['the shared folder', 'read ../shared/README.md'],
  ['an issue number', 'issue 3 builds that flow'],
  ['an issue reference', 'as in issue #2'],
])('the check fails for a reference to %s', (_what, comment) => {
  const result = inTree(
    {
      'lambda/h.ts': `import { x } from '../shared/crypto';\n// ${comment}\n`,
      'docs/REQUIREMENTS.md': '- **AS-1** — defined (OAuth 2.1 §4.1.1)\n',
    },
    (root) => run(`--root=${root}`),
  );
  expect(result.status).toBe(1);
  // The import of lambda/shared is not a reference; the comment on line 2 is.
  expect(result.stdout).toMatch(/1 references outside the repository\n/);
  expect(result.stdout).toContain(`lambda/h.ts:2: `);
});
