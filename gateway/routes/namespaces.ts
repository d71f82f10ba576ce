/** /system/namespaces (list) and the OpenFaaS Pro style /system/namespace/{name} API. */
import { Router } from 'express';
import { NamespaceRequestSchema, parseBody } from '../../core/contracts/openfaas.ts';
import { PlatformError } from '../../core/errors.ts';
import { validateNamespace } from '../../core/names.ts';
import type { Namespaces } from '../control/namespaces.ts';

function namespaceParam(raw: unknown): string {
  if (typeof raw !== 'string' || raw === '') throw new PlatformError('bad_request', 'namespace name is required: /system/namespace/NAME');
  return validateNamespace(raw, 'namespace');
}

export function createNamespaceRoutes(namespaces: Namespaces): Router {
  const r = Router();
  r.get('/system/namespaces', async (_req, res) => {
    res.json(await namespaces.list());
  });
  r.post('/system/namespace', async (req, res) => {
    const body = parseBody(NamespaceRequestSchema, req.body, 'create namespace');
    const name = namespaceParam(body.name);
    await namespaces.create({ name, labels: body.labels ?? {}, annotations: body.annotations ?? {} });
    res.status(201).json({ name, labels: body.labels ?? {}, annotations: body.annotations ?? {} });
  });
  r.get('/system/namespace/:name', async (req, res) => {
    res.json(await namespaces.get(namespaceParam(req.params.name)));
  });
  r.delete('/system/namespace/:name', async (req, res) => {
    await namespaces.remove(namespaceParam(req.params.name));
    res.status(200).end();
  });
  return r;
}
