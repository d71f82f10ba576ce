/**
 * GET /system/explain/{name}[?namespace=ns][&format=text]: the auto-scaler's last decision for a
 * function (demand, chosen configurations, alternatives and why, placement) as JSON, or as the
 * text `fastgshare explain` prints (formatExplanation).
 */
import { Router } from 'express';
import { PlatformError } from '../../core/errors.ts';
import { parseQualifiedName } from '../../core/names.ts';
import { formatExplanation } from '../../scheduler/explain.ts';
import { queryString } from '../routes/query.ts';
import type { ExplainRecord } from './autoscaler.ts';
import type { AdmissionClamp } from './scale-target.ts';

export interface ExplainSource {
  explain(key: string): ExplainRecord | undefined;
}

/** `source` undefined: the auto-scaler is off (501). */
export function createExplainRoutes(source: ExplainSource | undefined): Router {
  const r = Router();
  r.get('/system/explain/:name', (req, res) => {
    const { name, namespace } = parseQualifiedName(req.params.name, queryString(req.query, 'namespace') || undefined);
    const format = queryString(req.query, 'format') ?? 'json';
    if (format !== 'json' && format !== 'text')
      throw new PlatformError('bad_request', `query parameter "format" must be json or text, got "${format}"`);
    if (!source)
      throw new PlatformError(
        'not_implemented',
        'the auto-scaler is off on this gateway (FASTGSHARE_AUTOSCALE=false): there are no scaling decisions to explain',
      );
    const key = `${name}.${namespace}`;
    const rec = source.explain(key);
    if (!rec) {
      throw new PlatformError(
        'not_found',
        `no scaling decision for "${key}" yet: the auto-scaler manages functions with a fastgshare/slo_ms annotation and decides once per period; check the name with faas-cli list -n ${namespace}`,
      );
    }
    if (format === 'text') {
      const clamp = (rec as ExplainRecord & { admission?: AdmissionClamp }).admission;
      const admitted = clamp
        ? `admission: ${clamp.asked} replicas planned, ${clamp.applied} applied: ${clamp.reasons.join('; ')}\n`
        : '';
      res
        .type('text/plain')
        .send(
          admitted +
            `decided at ${rec.at}: measured ${rec.measuredRps.toFixed(2)} rps, ${rec.replicas} replicas${rec.config ? `, configuration p${rec.config.partitionPercent}/q${rec.config.quota}/b${rec.config.batch}` : ''}${rec.configs ? ` (running ${rec.configs})` : ''}\n` +
            formatExplanation(rec.decision),
        );
      return;
    }
    res.json(rec);
  });
  return r;
}
