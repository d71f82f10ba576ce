/**
 * /system/namespaces (list) and the OpenFaaS Pro style /system/namespace/{name} API: create
 * (POST /system/namespace/, 201), read (GET, 200), update labels and annotations (PUT, 202, as
 * OpenFaaS providers answer; faas-cli namespace update accepts 200/201/202) and delete (200).
 * Only the admin reaches the single-namespace routes (tenants/scope.ts lists none of them).
 */
import { Router } from 'express';
import { NamespaceRequestSchema, parseBody } from '../../core/contracts/openfaas.ts';
import { PlatformError } from '../../core/errors.ts';
import { validateNamespace } from '../../core/names.ts';
import type { Namespaces } from '../control/namespaces.ts';

function namespaceParam(raw: unknown): string {
  if (typeof raw !== 'string' || raw === '')
    throw new PlatformError('bad_request', 'namespace name is required: /system/namespace/NAME');
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
  r.put('/system/namespace/:name', async (req, res) => {
    const name = namespaceParam(req.params.name);
    const body = parseBody(NamespaceRequestSchema.partial({ name: true }), req.body, 'update namespace');
    // faas-cli sends the name in the body too; one that differs is a mistake, not a rename
    if (body.name !== undefined && body.name !== name) {
      throw new PlatformError(
        'bad_request',
        `update namespace: the body's name "${body.name}" does not match the namespace in the path "${name}"; a namespace cannot be renamed`,
        { details: { field: 'name' } },
      );
    }
    res
      .status(202)
      .json(await namespaces.update({ name, labels: body.labels ?? {}, annotations: body.annotations ?? {} }));
  });
  r.delete('/system/namespace/:name', async (req, res) => {
    await namespaces.remove(namespaceParam(req.params.name));
    res.status(200).end();
  });
  return r;
}
