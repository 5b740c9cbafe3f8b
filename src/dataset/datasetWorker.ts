/**
 * Worker thread of the dataset builder: one study per task, start to finish — generate it (seed
 * range) or read it (folder), assemble both phase volumes from Part-10 bytes with the node's own
 * assembly, cut the crops (and localiser grids with their masks) with the node's own
 * preprocessing, write the .npy files, return the manifest item.
 */
import { serveTasks } from './workerPool';
import { processStudyTask, type StudyTask, type WorkerSettings } from './studyTasks';
import type { DatasetItem } from './datasetManifest';

serveTasks<StudyTask, DatasetItem>((task, data) => processStudyTask(task, data as WorkerSettings));
