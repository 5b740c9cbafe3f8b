/**
 * How volume planning (volumePlan.ts) names what it refuses: the series, and for an attribute the
 * slices disagree on, each value with how many slices have it and one instance that does, so an
 * administrator can find the damaged instance. UIDs only, never patient data.
 */
/** Slices that share one value of an attribute. */
export interface SliceGroup {
  value: string;
  slices: number;
  /** SOP Instance UID of one slice with the value. */
  example: string;
}

/** "series 1.2.3", or "instances of 2 series (1.2.3, 1.2.4)" when they do not share one. */
export function seriesLabel(slices: readonly { seriesInstanceUID?: string }[]): string {
  const series = [...new Set(slices.map((slice) => slice.seriesInstanceUID).filter((uid): uid is string => uid !== undefined))];
  if (series.length === 0) return 'a series without SeriesInstanceUID';
  if (series.length === 1) return `series ${series[0]}`;
  return `instances of ${series.length} series (${series.slice(0, 3).join(', ')}${series.length > 3 ? ', ...' : ''})`;
}

/** The slices grouped by a value, the most common value first. */
export function groupSlices<Slice extends { sopInstanceUID: string }>(slices: readonly Slice[], valueOf: (slice: Slice) => string): SliceGroup[] {
  const groups = new Map<string, SliceGroup>();
  for (const slice of slices) {
    const value = valueOf(slice);
    const group = groups.get(value);
    if (group === undefined) groups.set(value, { value, slices: 1, example: slice.sopInstanceUID });
    else group.slices++;
  }
  return [...groups.values()].sort((a, b) => b.slices - a.slices);
}

/**
 * "512 x 512 in 79 slices, 256 x 256 in 1 (instance 1.2.3)": the values found, most common first,
 * with an instance for each value but the most common one (at most `limit` values).
 */
export function describeGroups(groups: SliceGroup[], limit = 4): string {
  const shown = groups.slice(0, limit).map((group, n) => {
    const count = `${group.slices} slice${group.slices === 1 ? '' : 's'}`;
    return n === 0 ? `${group.value} in ${count}` : `${group.value} in ${count} (e.g. instance ${group.example})`;
  });
  return shown.join(', ') + (groups.length > limit ? `, and ${groups.length - limit} more` : '');
}
