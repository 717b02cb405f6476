// Generates docs/machines/<name>.md for every `*Machine` StateMachine exported by src/machines/**/*.ts, plus an index
// docs/machines/README.md. Each page: the file's leading comment, a mermaid stateDiagram-v2 drawn from the machine's
// StateNode tree (nested states, initial states, transitions labelled by event, `after` delay and `always`), a
// transition table, and the named actors, guards, delays and actions. `--check` exits 1 when a page is stale,
// missing or no longer generated (CI runs it). `--src DIR --out DIR` point it elsewhere (the test uses a fixture).
//
//   npm run docs:machines          # rewrite docs/machines/
//   npm run docs:machines:check    # exit 1 if anything is stale
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import {
  chartOf,
  isStateMachine,
  machineNames,
  type ChartNode,
  type ChartTransition,
} from '../src/actors/observe/machineChart.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const defaultSrcDir = join(repoRoot, 'src', 'machines');
export const defaultOutDir = join(repoRoot, 'docs', 'machines');

export interface MachineDoc {
  /** Page name without .md: the export name without the `Machine` suffix. */
  name: string;
  exportName: string;
  file: string;
  machine: AnyStateMachine;
  comment: string;
}

/** The leading `//` or `/* *\/` comment of a source file, as text lines (marker and one space removed). */
export function leadingComment(source: string): string {
  const lines = source.split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  if (lines[i]?.trim().startsWith('/*')) {
    for (; i < lines.length; i++) {
      const l = lines[i]!;
      const end = l.includes('*/');
      out.push(
        l
          .replace(/^\s*\/\*\*?\s?/, '')
          .replace(/\s*\*\/.*$/, '')
          .replace(/^\s*\*\s?/, ''),
      );
      if (end) break;
    }
  } else {
    for (; i < lines.length && /^\s*\/\//.test(lines[i]!); i++) out.push(lines[i]!.replace(/^\s*\/\/ ?/, ''));
  }
  while (out.length && out[0]!.trim() === '') out.shift();
  while (out.length && out[out.length - 1]!.trim() === '') out.pop();
  return out.join('\n');
}

/** Prose lines stay prose; indented lines (diagrams, contracts) become fenced text blocks. */
export function commentToMarkdown(comment: string): string {
  const out: string[] = [];
  let inCode = false;
  for (const line of comment.split('\n')) {
    const code = /^\s{2,}\S/.test(line) || (inCode && line.trim() === '');
    if (code && !inCode) {
      if (out.length && out[out.length - 1] !== '') out.push('');
      out.push('```text');
      inCode = true;
    } else if (!code && inCode) {
      while (out[out.length - 1] === '') out.pop();
      out.push('```', '');
      inCode = false;
    }
    out.push(line.trimEnd());
  }
  if (inCode) {
    while (out[out.length - 1] === '') out.pop();
    out.push('```');
  }
  return out.join('\n');
}

const mid = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');
const mlabel = (s: string) => s.replace(/[;#]/g, ' ').replace(/:/g, '∶');

function transitionLabel(t: ChartTransition): string {
  return t.guard ? `${t.label} [${t.guard}]` : t.label;
}

function isWithin(id: string, ancestor: string): boolean {
  return id === ancestor || id.startsWith(ancestor + '.');
}

/** The mermaid stateDiagram-v2 of a chart. Each transition is written in the innermost state holding both ends. */
export function mermaidOf(chart: ChartNode): string {
  const all: { source: ChartNode; t: ChartTransition; target: string }[] = [];
  const collect = (n: ChartNode) => {
    for (const t of n.transitions) for (const target of t.targets) all.push({ source: n, t, target });
    n.states.forEach(collect);
  };
  collect(chart);
  const placed = new Set<number>();
  let declaredAny = false;
  const lines: string[] = ['stateDiagram-v2'];

  const emitScope = (scope: ChartNode, indent: string, root: boolean) => {
    const children = scope.states;
    if (scope.type === 'parallel') {
      children.forEach((c, i) => {
        if (i > 0) lines.push(`${indent}--`);
        emitState(c, indent);
      });
    } else {
      if (scope.initial) lines.push(`${indent}[*] --> ${mid(scope.initial)}`);
      for (const c of children) emitState(c, indent);
      for (const c of children) if (c.type === 'final') lines.push(`${indent}${mid(c.id)} --> [*]`);
    }
    // transitions whose both ends lie in this scope and in no single child of it (or in the root)
    all.forEach((e, i) => {
      if (placed.has(i)) return;
      const inside = root || (isWithin(e.source.id, scope.id) && isWithin(e.target, scope.id));
      if (!inside) return;
      const deeper = children.some(
        (c) =>
          c.states.length > 0 &&
          isWithin(e.source.id, c.id) &&
          isWithin(e.target, c.id) &&
          e.source.id !== c.id &&
          e.target !== c.id,
      );
      if (deeper) return;
      placed.add(i);
      // Machine-level `on` handlers apply in every state: drawn from a pseudo-state "any state".
      let from = mid(e.source.id);
      if (e.source.id === chart.id) {
        from = `${mid(chart.id)}__any`;
        if (!declaredAny) lines.push(`${indent}state "any state" as ${from}`);
        declaredAny = true;
      }
      const to = e.target === chart.id ? `${mid(chart.id)}__any` : mid(e.target);
      lines.push(`${indent}${from} --> ${to} : ${mlabel(transitionLabel(e.t))}`);
    });
  };

  const emitState = (n: ChartNode, indent: string) => {
    if (n.states.length === 0) {
      lines.push(`${indent}state "${n.key}" as ${mid(n.id)}`);
      return;
    }
    lines.push(`${indent}state "${n.key}" as ${mid(n.id)} {`);
    emitScope(n, indent + '  ', false);
    lines.push(`${indent}}`);
  };

  emitScope(chart, '  ', true);
  return lines.join('\n');
}

function transitionTable(chart: ChartNode): string {
  const rows: string[] = [];
  const rel = (id: string) => (id === chart.id ? '(machine)' : id.slice(chart.id.length + 1));
  const walk = (n: ChartNode) => {
    for (const t of n.transitions) {
      const to = t.targets.length ? t.targets.map((x) => `\`${rel(x)}\``).join(', ') : '(stays)';
      const cells = [
        `\`${rel(n.id)}\``,
        `\`${t.label}\``,
        t.guard ? `\`${t.guard}\`` : '',
        to,
        t.actions.map((a) => `\`${a}\``).join(', '),
      ];
      rows.push(`| ${cells.join(' | ')} |`);
    }
    n.states.forEach(walk);
  };
  walk(chart);
  if (rows.length === 0) return '_No transitions._';
  return ['| From | Event | Guard | To | Actions |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

function invokes(chart: ChartNode): string[] {
  const out: string[] = [];
  const rel = (id: string) => (id === chart.id ? '(machine)' : id.slice(chart.id.length + 1));
  const walk = (n: ChartNode) => {
    for (const inv of n.invoke) {
      out.push(
        `- \`${rel(n.id)}\` invokes \`${inv.src}\` as \`${inv.id}\`${inv.systemId ? ` (systemId \`${inv.systemId}\`)` : ''}`,
      );
    }
    n.states.forEach(walk);
  };
  walk(chart);
  return out;
}

export function renderMachinePage(doc: MachineDoc, outDir: string): string {
  const chart = chartOf(doc.machine);
  const names = machineNames(doc.machine, chart);
  const src = relative(outDir, doc.file).split('\\').join('/');
  const list = (xs: string[]) => (xs.length ? xs.map((x) => `\`${x}\``).join(', ') : '_none_');
  const parts = [
    `<!-- Generated by scripts/gen-machine-docs.ts from ${basename(doc.file)}; do not edit. Run: npm run docs:machines -->`,
    `# ${doc.name}`,
    '',
    `\`${doc.exportName}\` (machine id \`${doc.machine.id}\`) in [${basename(doc.file)}](${src}).`,
    '',
  ];
  if (doc.comment) parts.push(commentToMarkdown(doc.comment), '');
  parts.push(
    '## Diagram',
    '',
    '```mermaid',
    mermaidOf(chart),
    '```',
    '',
    '## Transitions',
    '',
    transitionTable(chart),
    '',
  );
  const inv = invokes(chart);
  if (inv.length) parts.push('## Invoked actors', '', ...inv, '');
  parts.push(
    '## Named implementations',
    '',
    `- **actors**: ${list(names.actors)}`,
    `- **guards**: ${list(names.guards)}`,
    `- **delays**: ${list(names.delays)}`,
    `- **actions**: ${list(names.actions)}`,
    '',
  );
  return parts.join('\n');
}

function firstSentence(comment: string): string {
  const prose = comment
    .split('\n')
    .filter((l) => !/^\s{2,}/.test(l))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  const m = /^(.*?[.!?])(\s|$)/.exec(prose);
  return (m ? m[1]! : prose).replace(/\|/g, '\\|');
}

export function renderIndex(docs: MachineDoc[]): string {
  const rows = docs.map((d) => `| [${d.name}](${d.name}.md) | \`${basename(d.file)}\` | ${firstSentence(d.comment)} |`);
  return [
    '<!-- Generated by scripts/gen-machine-docs.ts; do not edit. Run: npm run docs:machines -->',
    '# Machines',
    '',
    'One page per statechart in `src/machines`, each with a diagram generated from the machine definition. The live',
    'version of these charts, with the active states highlighted, is the local inspector (see ../inspector.md).',
    '',
    '| Machine | File | Summary |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/** Import every .ts file under srcDir (recursively) and collect its exported `*Machine` state machines, sorted by page name. */
export async function collectMachines(srcDir: string): Promise<MachineDoc[]> {
  const docs: MachineDoc[] = [];
  const files = (readdirSync(srcDir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
    .sort();
  for (const f of files) {
    const file = join(srcDir, f);
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const comment = leadingComment(readFileSync(file, 'utf8'));
    for (const [exportName, value] of Object.entries(mod)) {
      if (!/Machine$/.test(exportName) || !isStateMachine(value)) continue;
      docs.push({ name: exportName.replace(/Machine$/, ''), exportName, file, machine: value, comment });
    }
  }
  return docs.sort((a, b) => a.name.localeCompare(b.name));
}

export async function generate(srcDir: string, outDir: string): Promise<Map<string, string>> {
  const docs = await collectMachines(srcDir);
  const files = new Map<string, string>();
  for (const d of docs) files.set(`${d.name}.md`, renderMachinePage(d, outDir));
  files.set('README.md', renderIndex(docs));
  return files;
}

export async function run(argv: string[], log: (s: string) => void = console.log): Promise<number> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] ? resolve(argv[i + 1]!) : undefined;
  };
  const srcDir = arg('--src') ?? defaultSrcDir;
  const outDir = arg('--out') ?? defaultOutDir;
  const files = await generate(srcDir, outDir);
  const existing = existsSync(outDir) ? readdirSync(outDir).filter((f) => f.endsWith('.md')) : [];
  if (argv.includes('--check')) {
    const problems: string[] = [];
    for (const [name, text] of files) {
      const p = join(outDir, name);
      if (!existsSync(p)) problems.push(`missing: ${p}`);
      else if (readFileSync(p, 'utf8') !== text) problems.push(`stale: ${p}`);
    }
    for (const f of existing)
      if (!files.has(f)) problems.push(`not generated by any machine (remove it): ${join(outDir, f)}`);
    for (const p of problems) log(p);
    if (problems.length) {
      log('machine docs are out of date: run `npm run docs:machines`');
      return 1;
    }
    log(`machine docs are up to date (${files.size - 1} machines)`);
    return 0;
  }
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of files) {
    const p = join(outDir, name);
    if (existsSync(p) && readFileSync(p, 'utf8') === text) continue;
    const tmp = `${p}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, p);
    log(`wrote ${relative(process.cwd(), p)}`);
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 2;
    },
  );
}
