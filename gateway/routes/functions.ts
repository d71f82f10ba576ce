/** /system/functions, /system/function/{name}, /system/scale-function/{name}. */
import { Router } from 'express';
import { validateFunctionName, validateNamespace } from '../../core/names.ts';
import type { FunctionsControl } from '../control/functions.ts';
import type { FunctionQuery } from '../control/function-status.ts';
import { queryString, queryFlag } from './query.ts';

export function createFunctionRoutes(d: { control: FunctionsControl; query: FunctionQuery }): Router {
  const r = Router();
  r.get('/system/functions', async (req, res) => {
    const namespace = validateNamespace(queryString(req.query, 'namespace'));
    res.json(await d.query.list(namespace, queryFlag(req.query, 'usage')));
  });
  r.post('/system/functions', async (req, res) => {
    await d.control.deploy(req.body, 'create');
    res.status(202).end();
  });
  r.put('/system/functions', async (req, res) => {
    await d.control.deploy(req.body, 'update');
    res.status(200).end();
  });
  r.delete('/system/functions', async (req, res) => {
    await d.control.remove(req.body);
    res.status(200).end();
  });
  r.get('/system/function/:name', async (req, res) => {
    const name = validateFunctionName(req.params.name, 'function name');
    const namespace = validateNamespace(queryString(req.query, 'namespace'));
    res.json(await d.query.get(name, namespace, queryFlag(req.query, 'usage')));
  });
  r.post('/system/scale-function/:name', async (req, res) => {
    await d.control.scale(req.params.name, req.body, queryString(req.query, 'namespace'));
    res.status(202).end();
  });
  return r;
}
