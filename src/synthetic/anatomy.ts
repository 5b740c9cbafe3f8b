/**
 * One patient's upper abdomen as a list of shapes in paint order (later paints over earlier),
 * in the phantom's local frame: mm, x to the patient's left, y posterior, z superior (LPS axes),
 * origin at the body's centre line and z = 0 at the level of the portal confluence.
 * Patient coordinates are local + `translation` (the table position).
 *
 * Layout follows standard cross-sectional anatomy: the pancreas lies anterior to the splenic
 * vein, its head in the duodenal C-loop right of the SMV, its neck in front of the portal
 * confluence, its body in front of the SMA and aorta and its tail at the splenic hilum; the SMV
 * runs right of the SMA; the left renal vein crosses between SMA and aorta. Sizes are typical
 * adult values, varied per patient; they are assumptions, not measurements.
 */
import { drawGreatVessels, drawMesentericBranches, drawPortalVeins, splenicVessels, vesselCentrelines, vesselStructures, type PortalVeins } from './abdominalVessels';
import { drawBodyWall } from './bodyWall';
import { drawColon, drawSmallBowel, drawStomachAndDuodenum } from './bowel';
import { drawPancreasAndDuct, drawPancreasCentreLine, type PancreasCentreLine } from './pancreas';
import type { Anatomy, AnatomyOptions, PancreasRegion, Structure } from './anatomyTypes';
import type { TumourChoice } from './domainRandomisation';
import { drawProfilePancreasAndDuct, drawProfileTumourPlacement } from './profileAnatomy';
import type { PopulationDraw } from './randomisationTruth';
import type { SeededRandom } from './random';
import { drawRibs, drawSpine } from './skeleton';
import { drawKidneys, drawLiverAndLungBases, drawSpleen } from './solidOrgans';
import { drawTumourPlacement } from './tumourPlacement';

export { VESSEL_FREE_CORE } from './tumourPlacement';

export type { Anatomy, AnatomyOptions, PancreasRegion, Structure, TumourPlacement, VesselCentreline, VesselName } from './anatomyTypes';

/**
 * Draws the organ systems in a fixed order (the order of the `anatomy` stream's draws), then
 * lists their structures in paint order: body wall and back muscles, solid organs, bowel,
 * pancreas and tumour, then the vessels and the skeleton over them.
 */
/** The pancreas, its duct (and for randomised profiles the common bile duct) and the tumour's paint slot. */
function drawGland(
  rng: SeededRandom,
  line: PancreasCentreLine,
  portal: PortalVeins,
  region: PancreasRegion,
  variation: AnatomyVariation | undefined,
): { structures: Structure[]; ductDilated: boolean; secondarySigns?: Anatomy['secondarySigns'] } {
  if (!variation) return drawPancreasAndDuct(rng, line, region);
  const gland = drawProfilePancreasAndDuct(line, portal, variation.tumour);
  return { structures: gland.structures, ductDilated: gland.upstreamDuctDilated, secondarySigns: { parenchymalAtrophy: gland.parenchymalAtrophy, bileDuctDilated: gland.bileDuctDilated } };
}

/** A randomised profile's patient: the population's habitus and organs, and the tumour's draws. */
export interface AnatomyVariation {
  population: PopulationDraw;
  tumour: TumourChoice;
}

export function drawAnatomy(rng: SeededRandom, options: AnatomyOptions, variation?: AnatomyVariation): Anatomy {
  const population = variation?.population;
  const body = drawBodyWall(rng, population);
  const spine = drawSpine(rng, body);
  const ribs = drawRibs(rng, body, spine);
  const great = drawGreatVessels(rng, spine);
  const portal = drawPortalVeins(rng, great);
  const spleen = drawSpleen(rng, body, population);
  const splenic = splenicVessels(great, portal, spleen.hilum);
  const kidneys = drawKidneys(rng, spine, great, population);
  const liver = drawLiverAndLungBases(rng, body, portal, great, population);
  const stomachAndDuodenum = drawStomachAndDuodenum(rng, body, great, portal, population);
  const colon = drawColon(rng, body, spleen.centre[2]);
  const smallBowel = drawSmallBowel(rng, body, spine, population);
  const mesentericVessels = drawMesentericBranches(rng, great, portal);
  const pancreasLine = drawPancreasCentreLine(rng, portal, spleen.hilum, population);
  const vessels = vesselCentrelines(great, portal, splenic);
  const tumour = variation ? drawProfileTumourPlacement(rng, pancreasLine, vessels, variation.tumour, options.tpcArterialHu) : drawTumourPlacement(rng, pancreasLine, vessels, options);
  const pancreas = drawGland(rng, pancreasLine, portal, tumour.region, variation);

  const structures: Structure[] = [
    ...body.structures,
    ...spine.muscles,
    ...liver.structures,
    spleen.structure,
    ...kidneys.structures,
    ...stomachAndDuodenum.stomach,
    ...colon,
    ...smallBowel,
    ...mesentericVessels,
    ...stomachAndDuodenum.duodenum,
    ...pancreas.structures,
    ...vesselStructures(great, portal, splenic, kidneys.renalVeins),
    ...spine.bones,
    ...ribs,
  ];
  const zs = pancreasLine.control.map((point) => point[2]);
  return {
    structures,
    tumour,
    vessels,
    bodyHalfWidthMm: body.halfWidthMm,
    bodyHalfDepthMm: body.halfDepthMm,
    pancreasZ: [Math.min(...zs) - 15, Math.max(...zs) + 10],
    bodyPosteriorY: body.halfDepthMm,
    ductDilated: pancreas.ductDilated,
    gallbladder: liver.gallbladderPresent,
    ...(pancreas.secondarySigns ? { secondarySigns: pancreas.secondarySigns } : {}),
  };
}
