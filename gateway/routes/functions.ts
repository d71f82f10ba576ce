/**
 * /system/functions, /system/function/{name}, /system/scale-function/{name}. Statuses as faas-cli
 * 0.18 expects: list 200 (400 for a namespace that does not exist), deploy 202, update 200 (404
 * when absent: faas-cli then deploys), remove 200, scale 202. Bodies are parsed here; the control
 * layer takes typed commands.
 */
import { Router } from 'express';
import { PlatformError } from '../../core/errors.ts';
import { validateFunctionName, validateNamespace } from '../../core/names.ts';
import type { FunctionsControl } from '../control/functions.ts';
import type { FunctionQuery } from '../control/function-status.ts';
import type { Namespaces } from '../control/namespaces.ts';
import { queryString, queryFlag } from './query.ts';
import {
  DeleteFunctionRequestSchema,
  FunctionDeploymentSchema,
  ScaleServiceRequestSchema,
  parseBody,
} from '../../core/contracts/openfaas.ts';

/**
 * faas-cli remove -n NS sends `DELETE /system/functions?namespace=NS` with `{"functionName"}`
 * (faas-netes reads the query); other clients put `namespace` in the body. Either is taken; both
 * naming different namespaces is a 400 rather than a guess at which function to remove.
 */
export function deleteRequestWithQueryNamespace(body: unknown, queryNamespace: string | undefined): unknown {
  if (queryNamespace === undefined || queryNamespace === '') return body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body; // the body's own check says what is wrong
  const given = (body as Record<string, unknown>).namespace;
  if (given !== undefined && given !== '' && given !== queryNamespace) {
    throw new PlatformError(
      'bad_request',
      `delete function: the body's namespace "${String(given)}" and the query's "${queryNamespace}" differ; give one`,
      { details: { field: 'namespace' } },
    );
  }
  return { ...body, namespace: queryNamespace };
}

export function createFunctionRoutes(d: {
  control: FunctionsControl;
  query: FunctionQuery;
  namespaces: Namespaces;
}): Router {
  const r = Router();
  r.get('/system/functions', async (req, res) => {
    const namespace = validateNamespace(queryString(req.query, 'namespace'));
    await d.namespaces.check(namespace);
    res.json(await d.query.list(namespace, queryFlag(req.query, 'usage')));
  });
  r.post('/system/functions', async (req, res) => {
    await d.control.deploy(parseBody(FunctionDeploymentSchema, req.body, 'function deployment'), 'create');
    res.status(202).end();
  });
  r.put('/system/functions', async (req, res) => {
    await d.control.deploy(parseBody(FunctionDeploymentSchema, req.body, 'function deployment'), 'update');
    res.status(200).end();
  });
  r.delete('/system/functions', async (req, res) => {
    await d.control.remove(
      parseBody(
        DeleteFunctionRequestSchema,
        deleteRequestWithQueryNamespace(req.body, queryString(req.query, 'namespace')),
        'delete function',
      ),
    );
    res.status(200).end();
  });
  r.get('/system/function/:name', async (req, res) => {
    const name = validateFunctionName(req.params.name, 'function name');
    const namespace = validateNamespace(queryString(req.query, 'namespace'));
    res.json(await d.query.get(name, namespace, queryFlag(req.query, 'usage')));
  });
  r.post('/system/scale-function/:name', async (req, res) => {
    await d.control.scale(
      req.params.name,
      parseBody(ScaleServiceRequestSchema, req.body, 'scale function'),
      queryString(req.query, 'namespace'),
    );
    res.status(202).end();
  });
  return r;
}
