import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCsv, parseCsv } from '../../accreditation/csv.js';
import { demoRegistry, DEMO_ACCESS_CODE, DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import { CsvImportError, EmbeddedRegistry } from '../../accreditation/registry/embedded-registry.js';
import { fieldMapping, mapRecord, MappingError } from '../../accreditation/registry/field-mapping.js';
import { openStore, type Store } from '../../store/open-store.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'plenum-reg-'));
const HEADER = 'event_id,person_id,name,email,entity_name,entity_type,country_code,role,languages,status,sessions,access_code';

describe('CSV', () => {
  it('parses quotes, doubled quotes, CRLF and a BOM, and round-trips what it formats', () => {
    expect(parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
    ]);
    const text = formatCsv(['n', 'note'], [['Côte d’Ivoire', 'line1\nline2']]);
    expect(parseCsv(text)).toEqual([
      ['n', 'note'],
      ['Côte d’Ivoire', 'line1\nline2'],
    ]);
  });

  it('neutralises spreadsheet formulas in exports', () => {
    expect(formatCsv(['x'], [['=HYPERLINK("evil")']])).toContain(`"'=HYPERLINK(""evil"")"`);
  });
});

describe('embedded registry (on the embedded database)', () => {
  const dir = tmp();
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ dataDir: dir });
  });
  afterAll(() => store.close());

  it('is seeded with the demo event once, keeps access codes hashed, and survives a restart', async () => {
    const first = await EmbeddedRegistry.open(store.db, demoRegistry);
    expect(first.seeded).toBe(true);
    expect((await first.list(DEMO_EVENT_ID)).length).toBeGreaterThan(10);
    expect(await first.setStatus(DEMO_EVENT_ID, 'p-ke-2', 'revoked')).toMatchObject({ status: 'revoked' });
    // A second start (or a second node) finds it seeded and does not seed again over the change.
    const again = await EmbeddedRegistry.open(store.db, demoRegistry);
    expect(again.seeded).toBe(false);
    expect((await again.lookup({ eventId: DEMO_EVENT_ID, personId: 'p-ke-2' }))?.status).toBe('revoked');
    // Access codes are stored hashed.
    const hashes = await store.db.selectFrom('registrations').select('access_code_hash').where('event_id', '=', DEMO_EVENT_ID).execute();
    expect(hashes.every((h) => /^[0-9a-f]{32}:[0-9a-f]{64}$/.test(h.access_code_hash ?? ''))).toBe(true);
    // Closed and opened again: all of it is still there.
    await store.close();
    store = await openStore({ dataDir: dir });
    const restarted = await EmbeddedRegistry.open(store.db, demoRegistry);
    expect(restarted.seeded).toBe(false);
    expect((await restarted.lookup({ eventId: DEMO_EVENT_ID, email: 'BRIAN.KAMAU@demo.ke' }))?.status).toBe('revoked');
    expect(await restarted.checkAccessCode('amina.odhiambo@demo.ke', DEMO_ACCESS_CODE)).toMatchObject({ eventId: DEMO_EVENT_ID, personId: 'p-ke-1' });
    expect(await restarted.checkAccessCode('amina.odhiambo@demo.ke', 'wrong')).toBeNull();
    expect(await restarted.checkAccessCode('nobody@nowhere.example', DEMO_ACCESS_CODE)).toBeNull();
  });

  it('imports a CRM CSV export, with interpreter language pairs and session lists', async () => {
    const reg = new EmbeddedRegistry(store.db);
    const csv = [
      HEADER,
      'ev-crm,1,Ana Lima,ana@example.org,Brazil,member_state,BR,delegate,,approved,s1;s2,secret-code-1',
      'ev-crm,2,"Dupont, Marie",marie@example.org,Interpretation service,secretariat,,interpreter,en>fr;es>fr,approved,,',
    ].join('\n');
    expect(await reg.importCsv(csv, 'ev-crm')).toEqual({ imported: 2 });
    const marie = await reg.lookup({ eventId: 'ev-crm', email: 'MARIE@example.org' });
    expect(marie).toMatchObject({ name: 'Dupont, Marie', role: 'interpreter', languages: [{ from: 'en', to: 'fr' }, { from: 'es', to: 'fr' }] });
    expect((await reg.lookup({ eventId: 'ev-crm', personId: '1' }))?.sessions).toEqual(['s1', 's2']);
    expect(await reg.checkAccessCode('ana@example.org', 'secret-code-1')).toMatchObject({ personId: '1' });
    expect(await reg.hasEvent('ev-crm')).toBe(true);
    expect(await reg.hasEvent('ev-none')).toBe(false);
  });

  it('imports nothing when any line is invalid, and says which lines', async () => {
    const reg = new EmbeddedRegistry(store.db);
    const csv = [
      HEADER,
      'ev-bad,1,Ana,ana@example.org,Brazil,member_state,BR,delegate,,approved,,',
      'ev-bad,2,Bob,not-an-email,Kenya,member_state,KE,delegate,,approved,,',
      'ev-bad,3,Cy,cy@example.org,Kenya,planet,KE,emperor,,approved,,',
      'other,4,Di,di@example.org,Kenya,member_state,KE,delegate,,approved,,',
    ].join('\n');
    const error: unknown = await reg.importCsv(csv, 'ev-bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CsvImportError);
    expect((error as CsvImportError).lines.map((l) => l.line)).toEqual([3, 4, 5]);
    expect(await reg.list('ev-bad')).toHaveLength(0);
    await expect(reg.importCsv('name,email\nx,y')).rejects.toThrow(/missing column/);
  });
});

describe('field mapping (Indico registrants)', () => {
  const mapping = fieldMapping.parse(JSON.parse(readFileSync(join(import.meta.dirname, '../../docs/registry-mappings/indico.json'), 'utf8')));
  const indico = {
    registrant_id: 731,
    full_name: 'Haruto Sato',
    email: 'Haruto.Sato@example.jp',
    personal_data: { affiliation: 'Japan', country: 'jp' },
    tags: ['Member State', 'Head of Delegation'],
    state: 'complete',
    custom_fields: { interpretation_pairs: '', sessions: ['plenary'] },
  };

  it('maps institution to entity, tags to entity type and role, state to status', () => {
    expect(mapRecord(indico, 'ev', mapping)).toEqual({
      personId: '731',
      eventId: 'ev',
      name: 'Haruto Sato',
      email: 'haruto.sato@example.jp',
      entity: { name: 'Japan', type: 'member_state', countryCode: 'JP' },
      role: 'head_of_delegation',
      status: 'approved',
      sessions: ['plenary'],
    });
    expect(mapRecord({ ...indico, state: 'unpaid' }, 'ev', mapping).status).toBe('pending');
    expect(mapRecord({ ...indico, tags: ['Interpreter'], custom_fields: { interpretation_pairs: 'en>ja;fr>ja' } }, 'ev', mapping)).toMatchObject({
      role: 'interpreter',
      entity: { type: 'other' },
      languages: [{ from: 'en', to: 'ja' }, { from: 'fr', to: 'ja' }],
    });
  });

  it('reports a record that does not map as a MappingError', () => {
    expect(() => mapRecord({ ...indico, state: 'mystery' }, 'ev', mapping)).toThrow(MappingError);
    expect(() => mapRecord({ ...indico, email: 42 }, 'ev', mapping)).toThrow(MappingError);
  });
});
