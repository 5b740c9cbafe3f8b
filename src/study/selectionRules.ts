/**
 * Phase-selection rules, part of the configuration (`selection` section).
 * PLACEHOLDER: the full rule set (multilingual description patterns, timing windows,
 * thickness limits) is written with the phase selection itself.
 */
import { z } from 'zod';

export const selectionRulesSchema = z.object({}).strict();
export type SelectionRules = z.infer<typeof selectionRulesSchema>;
