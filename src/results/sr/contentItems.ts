/**
 * SR content items (PS3.3 C.17.3 "SR Document Content Module", C.18 "Content Item Value Types")
 * as naturalized datasets. Small pure constructors, one per value type, so that templates read
 * like the template tables in PS3.16.
 */
import { codeItem, type Code } from '../codes';
import type { NaturalizedDataset } from '../part10';

export type RelationshipType =
  | 'CONTAINS'
  | 'HAS PROPERTIES'
  | 'HAS CONCEPT MOD'
  | 'HAS OBS CONTEXT'
  | 'HAS ACQ CONTEXT'
  | 'INFERRED FROM'
  | 'SELECTED FROM';

export type ContentItem = NaturalizedDataset;

export interface SopReference {
  sopClassUID: string;
  sopInstanceUID: string;
}

function item(relationship: RelationshipType, valueType: string, name: Code | undefined, body: NaturalizedDataset, children: ContentItem[] = []): ContentItem {
  return {
    RelationshipType: relationship,
    ValueType: valueType,
    ...(name ? { ConceptNameCodeSequence: [codeItem(name)] } : {}),
    ...body,
    ...(children.length > 0 ? { ContentSequence: children } : {}),
  };
}

/** A Decimal String (PS3.5 6.2, at most 16 characters) for `value`. */
export function decimalString(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  for (let digits = 10; digits >= 1; digits--) {
    const text = String(Number(value.toPrecision(digits)));
    if (text.length <= 16) return text;
  }
  throw new RangeError(`cannot write ${value} as a DS`);
}

/** The root container, or a nested one (continuity SEPARATE: items are independent statements). */
export function container(
  relationship: RelationshipType | null,
  name: Code,
  children: ContentItem[],
  templateIdentifier?: string,
): ContentItem {
  const body: NaturalizedDataset = {
    ContinuityOfContent: 'SEPARATE',
    ...(templateIdentifier ? { ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: templateIdentifier }] } : {}),
  };
  if (relationship === null) {
    return { ValueType: 'CONTAINER', ConceptNameCodeSequence: [codeItem(name)], ...body, ContentSequence: children };
  }
  return item(relationship, 'CONTAINER', name, body, children);
}

export function text(relationship: RelationshipType, name: Code, value: string, children?: ContentItem[]): ContentItem {
  if (value.length === 0) throw new RangeError(`TEXT ${name.meaning}: empty value`);
  return item(relationship, 'TEXT', name, { TextValue: value }, children);
}

export function code(relationship: RelationshipType, name: Code, value: Code, children?: ContentItem[]): ContentItem {
  return item(relationship, 'CODE', name, { ConceptCodeSequence: [codeItem(value)] }, children);
}

export function uidref(relationship: RelationshipType, name: Code, uid: string): ContentItem {
  return item(relationship, 'UIDREF', name, { UID: uid });
}

/** NUM with its unit (PS3.3 C.18.1): DS for every reader, FD for full precision. */
export function num(relationship: RelationshipType, name: Code, value: number, unit: Code, children?: ContentItem[]): ContentItem {
  return item(
    relationship,
    'NUM',
    name,
    {
      MeasuredValueSequence: [
        {
          MeasurementUnitsCodeSequence: [codeItem(unit)],
          NumericValue: decimalString(value),
          FloatingPointValue: value,
        },
      ],
    },
    children,
  );
}

/**
 * IMAGE reference (PS3.3 C.18.4); name is optional (e.g. TID 1601 entries, TID 320 SELECTED FROM).
 * A reference to a Segmentation may name one of its segments (Referenced Segment Number).
 */
export function image(relationship: RelationshipType, name: Code | undefined, ref: SopReference, referencedSegmentNumber?: number): ContentItem {
  return item(relationship, 'IMAGE', name, {
    ReferencedSOPSequence: [
      {
        ReferencedSOPClassUID: ref.sopClassUID,
        ReferencedSOPInstanceUID: ref.sopInstanceUID,
        ...(referencedSegmentNumber !== undefined ? { ReferencedSegmentNumber: referencedSegmentNumber } : {}),
      },
    ],
  });
}

/**
 * A closed outline as SCOORD on one image (PS3.3 C.18.6): image coordinates in pixels, where the
 * top left corner of the top left pixel is (0, 0). SCOORD has no POLYGON graphic type (that is
 * SCOORD3D's); a POLYLINE whose last point repeats the first is the 2D polygon (C.18.6.1.1).
 */
export function scoordPolygon(relationship: RelationshipType, name: Code, columnRowPoints: Array<[number, number]>, selectedFrom: SopReference): ContentItem {
  if (columnRowPoints.length < 3) throw new RangeError(`SCOORD ${name.meaning}: a polygon needs at least 3 points`);
  const closed = [...columnRowPoints];
  const first = closed[0];
  const last = closed[closed.length - 1];
  if (first[0] !== last[0] || first[1] !== last[1]) closed.push(first);
  return item(relationship, 'SCOORD', name, { GraphicType: 'POLYLINE', GraphicData: closed.flat() }, [image('SELECTED FROM', undefined, selectedFrom)]);
}
