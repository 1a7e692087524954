import { z } from 'zod';
import { registration, type Registration } from '../model.js';

/**
 * How a CRM's answer maps onto a Registration. Each target field reads a dot path in the CRM's record
 * (`personal_data.affiliation`, `tags`); `map` translates values (the first array element that maps
 * wins), `value` sets a constant. See docs/ACCREDITATION.md for an Indico mapping.
 */
const fieldRule = z.union([
  z.string(),
  z.object({ path: z.string().optional(), map: z.record(z.string(), z.string()).optional(), value: z.string().optional(), default: z.string().optional() }),
]);
export const fieldMapping = z.object({
  /** Path template of the lookup, relative to the base URL: {eventId}, {email}, {personId} are URL-encoded in. */
  lookupPath: z.string().default('/events/{eventId}/registrations?email={email}'),
  /** Path template when the identity carries the CRM person id. */
  lookupByIdPath: z.string().default('/events/{eventId}/registrations/{personId}'),
  /** Where the record is in the answer: "" for the body itself, "results" for the first of a list, ... */
  recordPath: z.string().default(''),
  fields: z
    .object({
      personId: fieldRule,
      name: fieldRule,
      email: fieldRule,
      entityName: fieldRule,
      entityType: fieldRule,
      countryCode: fieldRule.optional(),
      role: fieldRule,
      status: fieldRule,
      /** A list of "en>fr" strings, or objects {from, to}. */
      languages: fieldRule.optional(),
      sessions: fieldRule.optional(),
    })
    .default({
      personId: 'personId',
      name: 'name',
      email: 'email',
      entityName: 'entity.name',
      entityType: 'entity.type',
      countryCode: 'entity.countryCode',
      role: 'role',
      status: 'status',
      languages: 'languages',
      sessions: 'sessions',
    }),
});
export type FieldMapping = z.infer<typeof fieldMapping>;

export function readPath(value: unknown, path: string): unknown {
  if (path === '') return value;
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (current === null || current === undefined) return undefined;
    if (Array.isArray(current)) {
      const index = Number(part);
      current = Number.isInteger(index) ? current[index] : undefined;
    } else if (typeof current === 'object' && Object.prototype.hasOwnProperty.call(current, part)) {
      current = (current as Record<string, unknown>)[part];
    } else return undefined;
  }
  return current;
}

function apply(rule: z.infer<typeof fieldRule> | undefined, record: unknown): unknown {
  if (rule === undefined) return undefined;
  if (typeof rule === 'string') return readPath(record, rule);
  if (rule.value !== undefined) return rule.value;
  const raw = rule.path === undefined ? undefined : readPath(record, rule.path);
  if (!rule.map) return raw ?? rule.default;
  const candidates = Array.isArray(raw) ? raw : [raw];
  for (const c of candidates) {
    const key = typeof c === 'object' && c !== null && 'name' in c ? String((c as { name: unknown }).name) : String(c);
    if (Object.prototype.hasOwnProperty.call(rule.map, key)) return rule.map[key];
  }
  return rule.default;
}

function toLanguages(raw: unknown): Array<{ from: unknown; to: unknown }> | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const list = Array.isArray(raw) ? raw : String(raw).split(';');
  return list.map((p) => {
    if (typeof p === 'object' && p !== null) return p as { from: unknown; to: unknown };
    const [from, to] = String(p).split('>');
    return { from: from?.trim(), to: to?.trim() };
  });
}

export class MappingError extends Error {}

/** Maps one CRM record; throws MappingError (a malformed answer) when the result is not a valid Registration. */
export function mapRecord(record: unknown, eventId: string, mapping: FieldMapping): Registration {
  const f = mapping.fields;
  const sessions = apply(f.sessions, record);
  const countryCode = apply(f.countryCode, record);
  const candidate = {
    eventId,
    personId: stringOrUndefined(apply(f.personId, record)),
    name: apply(f.name, record),
    email: apply(f.email, record),
    entity: {
      name: apply(f.entityName, record),
      type: apply(f.entityType, record),
      countryCode: countryCode === undefined || countryCode === null || countryCode === '' ? undefined : String(countryCode).toUpperCase(),
    },
    role: apply(f.role, record),
    status: apply(f.status, record),
    languages: toLanguages(apply(f.languages, record)),
    sessions: Array.isArray(sessions) ? sessions.map(String) : undefined,
  };
  const parsed = registration.safeParse(candidate);
  if (!parsed.success) {
    throw new MappingError(`the registry's record does not map: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

function stringOrUndefined(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}
