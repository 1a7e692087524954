// A person's role and entity in the interface language: "Kenya — Member State". Unknown values (a CRM with
// its own vocabulary) are shown as they come rather than hidden.
import type { TFunction } from 'i18next';

export const ROLES = ['delegate', 'head_of_delegation', 'observer', 'interpreter', 'secretariat', 'chair', 'captioner'] as const;
const ENTITY_TYPES = new Set([
  'member_state', 'observer_state', 'sector_member', 'associate', 'academia', 'intergovernmental_organization',
  'non_governmental_organization', 'un_system', 'secretariat', 'other',
]);

export const roleLabel = (t: TFunction, role: string): string => ((ROLES as readonly string[]).includes(role) ? t(`roles.${role}`) : role);

export const entityTypeLabel = (t: TFunction, type: string): string => (ENTITY_TYPES.has(type) ? t(`entityTypes.${type}`) : type);

/** "Kenya — Member State". */
export const entityLabel = (t: TFunction, entity: { name: string; type: string }): string => `${entity.name} — ${entityTypeLabel(t, entity.type)}`;
