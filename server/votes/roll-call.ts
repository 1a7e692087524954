// A roll-call: the entities are called in turn, from one drawn by lot, as in the UN General Assembly. An
// entity that passes is called again after the others; passing twice leaves it not voting.

/** The calling order: the entities alphabetically, starting from the one at `start` (drawn by lot), wrapping round. */
export function rollCallOrder(entities: readonly string[], start: number): string[] {
  const sorted = [...new Set(entities)].sort((a, b) => a.localeCompare(b, 'en'));
  if (sorted.length === 0) return [];
  const s = ((start % sorted.length) + sorted.length) % sorted.length;
  return [...sorted.slice(s), ...sorted.slice(0, s)];
}

/** The entity called now: the first not yet voted nor passed, then those that passed once; none when all are done. */
export function calledEntity(order: readonly string[], voted: ReadonlySet<string>, passes: Readonly<Record<string, number>> = {}): string | undefined {
  return order.find((e) => !voted.has(e) && !passes[e]) ?? order.find((e) => !voted.has(e) && passes[e] === 1);
}
