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
import { drawGreatVessels, drawMesentericBranches, drawPortalVeins, splenicVessels, vesselCentrelines, vesselStructures } from './abdominalVessels';
import { drawBodyWall } from './bodyWall';
import { drawColon, drawSmallBowel, drawStomachAndDuodenum } from './bowel';
import { drawPancreasAndDuct, drawPancreasCentreLine } from './pancreas';
import type { Anatomy, AnatomyOptions, Structure } from './anatomyTypes';
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
export function drawAnatomy(rng: SeededRandom, options: AnatomyOptions): Anatomy {
  const body = drawBodyWall(rng);
  const spine = drawSpine(rng, body);
  const ribs = drawRibs(rng, body, spine);
  const great = drawGreatVessels(rng, spine);
  const portal = drawPortalVeins(rng, great);
  const spleen = drawSpleen(rng, body);
  const splenic = splenicVessels(great, portal, spleen.hilum);
  const kidneys = drawKidneys(rng, spine, great);
  const liver = drawLiverAndLungBases(rng, body, portal, great);
  const stomachAndDuodenum = drawStomachAndDuodenum(rng, body, great, portal);
  const colon = drawColon(rng, body, spleen.centre[2]);
  const smallBowel = drawSmallBowel(rng, body, spine);
  const mesentericVessels = drawMesentericBranches(rng, great, portal);
  const pancreasLine = drawPancreasCentreLine(rng, portal, spleen.hilum);
  const vessels = vesselCentrelines(great, portal, splenic);
  const tumour = drawTumourPlacement(rng, pancreasLine, vessels, options);
  const pancreas = drawPancreasAndDuct(rng, pancreasLine, tumour.region);

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
  };
}
