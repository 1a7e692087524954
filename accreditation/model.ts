// The accreditation vocabulary: who a person is for an event, and what a session admits.
import { z } from 'zod';

export const roles = ['delegate', 'head_of_delegation', 'observer', 'interpreter', 'secretariat', 'chair', 'captioner'] as const;
export const role = z.enum(roles);
export type Role = z.infer<typeof role>;

export const entityTypes = [
  'member_state',
  'observer_state',
  'sector_member',
  'associate',
  'academia',
  'intergovernmental_organization',
  'non_governmental_organization',
  'un_system',
  'secretariat',
  'other',
] as const;
export const entityType = z.enum(entityTypes);
export type EntityType = z.infer<typeof entityType>;

export const registrationStatuses = ['approved', 'pending', 'rejected', 'withdrawn', 'revoked'] as const;
export const registrationStatus = z.enum(registrationStatuses);
export type RegistrationStatus = z.infer<typeof registrationStatus>;

/** A language code as used for channels and booths: "en", "fr", "zh", "pt-BR". */
export const languageCode = z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'a language code such as "en" or "pt-BR"');

export const languagePair = z.object({ from: languageCode, to: languageCode });
export type LanguagePair = z.infer<typeof languagePair>;

export const entity = z.object({
  name: z.string().min(1).max(200),
  type: entityType,
  countryCode: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2, upper case').optional(),
});
export type Entity = z.infer<typeof entity>;

export const registration = z.object({
  personId: z.string().min(1).max(128),
  eventId: z.string().min(1).max(128),
  name: z.string().min(1).max(200),
  email: z.string().email().max(254).transform((e) => e.toLowerCase()),
  entity,
  role,
  /** Interpreters: the directions they work in; their booth is each pair's target language. */
  languages: z.array(languagePair).max(16).optional(),
  status: registrationStatus,
  /** When present, the only sessions this person may attend. */
  sessions: z.array(z.string().min(1).max(128)).max(500).optional(),
});
export type Registration = z.infer<typeof registration>;
export type RegistrationInput = z.input<typeof registration>;

export const sessionStatuses = ['scheduled', 'open', 'suspended', 'closed'] as const;
export const sessionStatus = z.enum(sessionStatuses);
export type SessionStatus = z.infer<typeof sessionStatus>;

/** What a session admits and lets speak, and how it is conducted. */
export const sessionRulesObject = z
  .object({
  sessionId: z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/),
  eventId: z.string().min(1).max(128),
  meetingId: z.string().min(1).max(128).optional(),
  title: z.string().min(1).max(200),
  /** Lifecycle: only an open session admits delegations; the secretariat and the chair may always enter. */
  status: sessionStatus.default('open'),
  startsAt: z.iso.datetime({ offset: true }).optional(),
  endsAt: z.iso.datetime({ offset: true }).optional(),
  lobby: z.boolean(),
  /** A locked session admits nobody new but the secretariat and the chair. */
  locked: z.boolean().default(false),
  /** Moderated floor: a delegate's microphone reaches the room only while they hold the floor. */
  floorControl: z.boolean().default(false),
  speakingTimeLimitSec: z.number().int().min(10).max(3600).default(180),
  speakingTimeWarningSec: z.number().int().min(0).max(600).default(30),
  /** Interpreters assigned by the secretariat: person id -> booth language. */
  interpreters: z.array(z.object({ personId: z.string().min(1).max(128), language: languageCode })).max(100).default([]),
  /**
   * `selected` (default): listeners receive only the floor and the chosen language; a switch creates the new
   * channel's consumer. `all`: every language channel, paused until chosen (a switch is one resume, but
   * every paused consumer is still visited per forwarded packet: more worker CPU).
   */
  listenerChannels: z.enum(['all', 'selected']).default('selected'),
  /** Captioners assigned by the secretariat (person ids); captioners by role may caption too. */
  captioners: z.array(z.string().min(1).max(128)).max(100).default([]),
  /** Roles admitted; absent means every role. */
  roles: z.array(role).optional(),
  /** Entity types admitted; absent means every type. The secretariat and the chair are always admitted. */
  entityTypes: z.array(entityType).optional(),
  /** Roles that may take the floor (publish into it); others listen. */
  speakerRoles: z.array(role).default(['delegate', 'head_of_delegation', 'chair', 'secretariat']),
  /** Interpreted languages; each has a booth. */
  languages: z.array(languageCode).max(32).default([]),
  /**
   * Sign-language channels (ISO 639-3: "ils" International Sign, "ase", "bfi"...): each has a booth whose
   * interpreters publish their camera (docs/SIGN-LANGUAGE.md). A code is either spoken or signed, not both.
   */
  signLanguages: z.array(languageCode).max(8).default([]),
  /**
   * Recording (server/recording): `auto` records whenever the session is open; `retentionDays` is how long a
   * stopped recording's files are kept (null: until deleted by hand).
   */
  recording: z
    .object({ auto: z.boolean().default(false), retentionDays: z.number().int().min(1).max(36500).nullable().default(null) })
    .strict()
    .default({ auto: false, retentionDays: null }),
  /** Phone dial-in: the number the PBX routes to this session (digits only, unique on the server). */
  dialIn: z.object({ number: z.string().regex(/^\d{3,15}$/, '3 to 15 digits') }).strict().optional(),
  })
  .strict();
export const sessionRules = z.preprocess(
  // Older files and callers said `open: true|false`; the lifecycle status replaces it.
  (v) => {
    if (!v || typeof v !== 'object' || !('open' in v)) return v;
    const { open, ...rest } = v as { open: unknown };
    return 'status' in rest ? rest : { ...rest, status: open ? 'open' : 'closed' };
  },
  sessionRulesObject,
);
export type SessionRules = z.infer<typeof sessionRules>;
export type SessionRulesInput = Omit<Partial<SessionRules>, 'sessionId' | 'eventId' | 'title' | 'lobby'> &
  Pick<SessionRules, 'sessionId' | 'eventId' | 'title' | 'lobby'> & { open?: boolean };

/** Roles that conduct the meeting: always admitted (even to closed sessions), never held in the lobby. */
export const conductingRoles: readonly Role[] = ['secretariat', 'chair'];

export type DecisionKind = 'allow' | 'lobby' | 'deny';

export const DenyReason = {
  NOT_REGISTERED: 'NOT_REGISTERED',
  REGISTRATION_PENDING: 'REGISTRATION_PENDING',
  REGISTRATION_REJECTED: 'REGISTRATION_REJECTED',
  REGISTRATION_WITHDRAWN: 'REGISTRATION_WITHDRAWN',
  REGISTRATION_REVOKED: 'REGISTRATION_REVOKED',
  SESSION_NOT_FOUND: 'SESSION_NOT_FOUND',
  SESSION_CLOSED: 'SESSION_CLOSED',
  SESSION_NOT_OPEN: 'SESSION_NOT_OPEN',
  SESSION_SUSPENDED: 'SESSION_SUSPENDED',
  SESSION_LOCKED: 'SESSION_LOCKED',
  NOT_REGISTERED_FOR_SESSION: 'NOT_REGISTERED_FOR_SESSION',
  ROLE_NOT_ADMITTED: 'ROLE_NOT_ADMITTED',
  ENTITY_NOT_ADMITTED: 'ENTITY_NOT_ADMITTED',
  REGISTRY_UNAVAILABLE: 'REGISTRY_UNAVAILABLE',
  IDENTITY_INVALID: 'IDENTITY_INVALID',
  /** The identity token was issued for another event (an embedded sign-in is good for one event). */
  IDENTITY_OTHER_EVENT: 'IDENTITY_OTHER_EVENT',
  /** A caller's dial-in PIN names nobody of the session's event (wrong, revoked or replaced). */
  PIN_INVALID: 'PIN_INVALID',
  /** Too many wrong PINs for this session lately (PLENUM_DIAL_IN_PIN_MAX_FAILURES): PINs are not checked for a while. */
  PIN_ATTEMPTS_EXCEEDED: 'PIN_ATTEMPTS_EXCEEDED',
} as const;
export type DenyReason = (typeof DenyReason)[keyof typeof DenyReason];
export type AdmitReason = 'ADMITTED' | 'LOBBY_REQUIRED';

/** What a person may do in one session, once admitted. */
export interface SessionGrants {
  publishFloor: boolean;
  /** Booth languages this person may publish into (interpreters). */
  booths: string[];
  /** May publish caption text (captioners). */
  captions: boolean;
  subscribe: boolean;
  /** Conducting rights: lobby, roster details, removal. */
  moderate: boolean;
}

export interface PolicyDecision {
  decision: DecisionKind;
  reasons: Array<DenyReason | AdmitReason>;
  grants?: SessionGrants;
}
