/**
 * Worker thread of `tsr-node evaluate`: generates one held-out seed per task and assembles its
 * phase volumes (evaluationCase.ts, prepareSeed); the volumes are moved, not copied, to the main
 * thread, which runs the models.
 */
import { serveTasks } from '../dataset/workerPool';
import { prepareSeed, preparedTransferList, type EvaluationSettings, type PreparedStudy } from './evaluationCase';

serveTasks<number, PreparedStudy>((seed, data) => prepareSeed(seed, data as EvaluationSettings), preparedTransferList);
