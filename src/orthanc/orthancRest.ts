/**
 * The few routes of Orthanc's own REST API (https://orthanc.uclouvain.be/book/users/rest.html)
 * that the node needs beside DICOMweb: the change log, a study's StudyInstanceUID and instances,
 * /system for readiness, and deleting the node's own superseded results. Same transport as the DICOMweb client (auth, TLS, retries).
 *
 * Privacy: GET /studies/{id} also returns PatientMainDicomTags; they are dropped here and never
 * leave this module.
 */
import { PermanentError } from '../errors';
import type { Logger } from '../logging/logger';
import { transportOptionsFromConfig, type DicomWebClientOptions } from '../dicomweb/client';
import { HttpTransport, httpStatusOf } from '../dicomweb/httpTransport';

/** One entry of GET /changes. */
export interface OrthancChange {
  Seq: number;
  ChangeType: string;
  ResourceType: string;
  ID: string;
  Path?: string;
  Date?: string;
}

export interface OrthancChangesPage {
  changes: OrthancChange[];
  /** Seq of the last change returned (or the newest change when none is returned). */
  last: number;
  done: boolean;
}

export interface OrthancStudySummary {
  orthancStudyId: string;
  studyInstanceUID: string;
  isStable?: boolean;
  seriesCount: number;
}

/** Orthanc resource ids are SHA-1 based: five groups of eight hex digits. */
export function isOrthancId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/.test(value);
}

export interface OrthancRestOptions extends DicomWebClientOptions {
  /** Orthanc's REST root (config orthanc.url). */
  url: string;
}

export class OrthancRestClient {
  private readonly transport: HttpTransport;
  readonly baseUrl: string;

  constructor(options: OrthancRestOptions, extras: { logger?: Logger; sleep?: (ms: number) => Promise<void> } = {}) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    // Its own small semaphore: the change feed must not queue behind long WADO-RS retrievals.
    this.transport = new HttpTransport(transportOptionsFromConfig(options, 2, extras));
  }

  close(): void {
    this.transport.close();
  }

  private async getJson<T>(route: string): Promise<T> {
    const response = await this.transport.request({ method: 'GET', url: this.baseUrl + route, headers: { Accept: 'application/json' } });
    try {
      return JSON.parse(response.body.toString('utf8')) as T;
    } catch {
      throw new PermanentError(`Orthanc GET ${route}: the answer is not JSON`);
    }
  }

  /** GET /system: Orthanc's name and version (readiness). */
  system(): Promise<{ Name?: string; Version: string; ApiVersion?: number }> {
    return this.getJson('/system');
  }

  /** GET /changes?since=&limit= (Orthanc 1.10 ignores `filter=`; callers filter). */
  async getChanges(since: number, limit: number): Promise<OrthancChangesPage> {
    const page = await this.getJson<{ Changes?: OrthancChange[]; Last?: number; Done?: boolean }>(`/changes?since=${Math.max(0, Math.floor(since))}&limit=${Math.floor(limit)}`);
    if (!Array.isArray(page.Changes) || typeof page.Last !== 'number' || typeof page.Done !== 'boolean') {
      throw new PermanentError('Orthanc GET /changes: unexpected answer (no Changes/Last/Done)');
    }
    return { changes: page.Changes, last: page.Last, done: page.Done };
  }

  /** The sequence number of Orthanc's newest change (GET /changes?limit=0 returns none, and its `Last`). */
  async getLastChangeSeq(): Promise<number> {
    return (await this.getChanges(0, 0)).last;
  }

  /** GET /studies/{id}; undefined when Orthanc no longer has the study (HTTP 404). */
  async getStudy(orthancStudyId: string): Promise<OrthancStudySummary | undefined> {
    if (!isOrthancId(orthancStudyId)) throw new PermanentError(`not an Orthanc study id: "${String(orthancStudyId).slice(0, 80)}"`);
    try {
      const study = await this.getJson<{ ID: string; IsStable?: boolean; MainDicomTags?: { StudyInstanceUID?: string }; Series?: string[] }>(`/studies/${orthancStudyId}`);
      const uid = study.MainDicomTags?.StudyInstanceUID;
      if (!uid) throw new PermanentError(`Orthanc study ${orthancStudyId} has no StudyInstanceUID`);
      return { orthancStudyId: study.ID, studyInstanceUID: uid, isStable: study.IsStable, seriesCount: study.Series?.length ?? 0 };
    } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * The Orthanc id of the study an instance belongs to (GET /instances/{id}/study: one request,
   * about 2 ms); undefined when the instance is gone (404). Only the id leaves this method.
   */
  async getInstanceStudyId(orthancInstanceId: string): Promise<string | undefined> {
    if (!isOrthancId(orthancInstanceId)) throw new PermanentError(`not an Orthanc instance id: "${String(orthancInstanceId).slice(0, 80)}"`);
    try {
      const study = await this.getJson<{ ID?: string }>(`/instances/${orthancInstanceId}/study`);
      return isOrthancId(study.ID) ? study.ID : undefined;
    } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * Deletes the instance with this SOP Instance UID from Orthanc (POST /tools/lookup for its
   * Orthanc id, then DELETE /instances/{id}); false when Orthanc has no such instance (or it went
   * meanwhile). Used only for the node's own superseded results (config results.superseded).
   */
  async deleteInstance(sopInstanceUID: string): Promise<boolean> {
    if (!/^[0-9.]{1,64}$/.test(sopInstanceUID)) throw new PermanentError(`not a SOP Instance UID: "${sopInstanceUID.slice(0, 80)}"`);
    const response = await this.transport.request({
      method: 'POST',
      url: `${this.baseUrl}/tools/lookup`,
      headers: { 'Content-Type': 'text/plain', Accept: 'application/json' },
      body: [Buffer.from(sopInstanceUID, 'utf8')],
    });
    let found: Array<{ ID?: unknown; Type?: unknown }>;
    try {
      found = JSON.parse(response.body.toString('utf8')) as Array<{ ID?: unknown; Type?: unknown }>;
    } catch {
      throw new PermanentError('Orthanc POST /tools/lookup: the answer is not JSON');
    }
    const ids = (Array.isArray(found) ? found : []).filter((r) => r.Type === 'Instance' && isOrthancId(r.ID)).map((r) => r.ID as string);
    let deleted = false;
    for (const id of ids) {
      const answer = await this.transport.request({ method: 'DELETE', url: `${this.baseUrl}/instances/${id}`, accept: (status) => (status >= 200 && status < 300) || status === 404 });
      deleted ||= answer.status !== 404;
    }
    return deleted;
  }

  /** SOPInstanceUIDs of every instance of the study (GET /studies/{id}/instances); undefined on 404. */
  async getStudySopInstanceUIDs(orthancStudyId: string): Promise<string[] | undefined> {
    if (!isOrthancId(orthancStudyId)) throw new PermanentError(`not an Orthanc study id: "${String(orthancStudyId).slice(0, 80)}"`);
    try {
      const instances = await this.getJson<Array<{ MainDicomTags?: { SOPInstanceUID?: string } }>>(`/studies/${orthancStudyId}/instances`);
      return instances.map((i) => i.MainDicomTags?.SOPInstanceUID).filter((uid): uid is string => typeof uid === 'string');
    } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw err;
    }
  }
}
