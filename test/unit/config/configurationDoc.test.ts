/**
 * docs/configuration.md against the schema (src/config/schema.ts) and the environment table
 * (src/config/environment.ts), so that they cannot drift apart: every field has a row, every row
 * is a field, every TSR_* variable is on its field's row, and every default shown is the real one.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ENVIRONMENT } from '../../../src/config/environment';
import { configSchema } from '../../../src/config/schema';
import { PROJECT_ROOT } from '../../../src/paths';

interface ZodLike {
  _zod: { def: { type: string; innerType?: ZodLike; in?: ZodLike; shape?: Record<string, ZodLike> } };
}

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch']);

function unwrap(schema: ZodLike): ZodLike {
  let s = schema;
  for (;;) {
    const def = s._zod.def;
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
}

/** Dotted paths of every leaf field of the schema. */
function leafPaths(schema: ZodLike, prefix: string[] = []): string[] {
  const s = unwrap(schema);
  if (s._zod.def.type !== 'object' || !s._zod.def.shape) return [prefix.join('.')];
  return Object.entries(s._zod.def.shape).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
}

function valueAt(object: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), object);
}

interface DocRow {
  field: string;
  defaultCell: string;
  envCell: string;
}

function docRows(markdown: string): DocRow[] {
  const rows: DocRow[] = [];
  for (const line of markdown.split('\n')) {
    const m = /^\| `([A-Za-z.]+)` \|(.*)$/.exec(line);
    if (!m) continue;
    const cells = m[2].split(' | ').map((c) => c.trim());
    rows.push({ field: m[1], defaultCell: cells[0], envCell: cells[1] ?? '' });
  }
  return rows;
}

describe('docs/configuration.md matches the configuration schema', () => {
  const markdown = readFileSync(path.join(PROJECT_ROOT, 'docs', 'configuration.md'), 'utf8');
  const rows = docRows(markdown);
  const fields = leafPaths(configSchema);
  const defaults = configSchema.parse({});

  it('finds the schema fields and the doc rows (the parsers work)', () => {
    expect(fields).to.include.members(['dataDir', 'orthanc.url', 'api.token', 'selection.limits.minSlices']);
    expect(rows.length).to.be.greaterThan(40);
  });

  it('documents every field of the schema, once', () => {
    const documented = rows.map((r) => r.field);
    const missing = fields.filter((f) => !documented.includes(f));
    expect(missing, 'fields without a row in docs/configuration.md').to.deep.equal([]);
    const twice = documented.filter((f, n) => documented.indexOf(f) !== n);
    expect(twice, 'fields with two rows').to.deep.equal([]);
  });

  it('documents no field the schema does not have', () => {
    const stale = rows.map((r) => r.field).filter((f) => !fields.includes(f));
    expect(stale, 'rows for fields that do not exist').to.deep.equal([]);
  });

  it('names every TSR_* variable on the row of the field it sets, and no other', () => {
    for (const binding of ENVIRONMENT) {
      const row = rows.find((r) => r.field === binding.path.join('.'));
      expect(row, binding.variable).to.not.equal(undefined);
      expect(row!.envCell, `${binding.variable} on the row of ${row!.field}`).to.contain(`\`${binding.variable}\``);
    }
    for (const row of rows) {
      for (const variable of row.envCell.match(/TSR_[A-Z_]+/g) ?? []) {
        const binding = ENVIRONMENT.find((b) => b.variable === variable);
        expect(binding, `${variable} (documented for ${row.field}) exists`).to.not.equal(undefined);
        expect(binding!.path.join('.')).to.equal(row.field);
      }
    }
    expect(markdown).to.contain('`TSR_CONFIG`');
  });

  it('shows the real default of every field', () => {
    for (const row of rows) {
      const actual = valueAt(defaults, row.field);
      if (actual === undefined) {
        expect(row.defaultCell, `${row.field} has no default`).to.match(/^\*unset\*/);
        continue;
      }
      const shown = /^`(.*)`$/.exec(row.defaultCell)?.[1];
      if (shown === undefined) {
        // Only long built-in pattern lists may be described instead of shown.
        expect(row.field, `${row.field}: default shown as "${row.defaultCell}"`).to.match(/^selection\.patterns\./);
        expect(row.defaultCell).to.match(/^built-in/);
        continue;
      }
      expect(JSON.parse(shown), row.field).to.deep.equal(actual);
    }
  });
});
