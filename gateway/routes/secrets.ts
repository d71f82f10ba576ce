/**
 * /system/secrets: names only on GET, never values. Updating a secret re-applies functions.
 * Statuses as OpenFaaS providers answer and faas-cli 0.18 accepts: GET 200 (400 for a namespace
 * that does not exist), POST 201, PUT 202, DELETE 202 (faas-cli secret remove takes only 200/202).
 */
import { Router } from 'express';
import { validateNamespace } from '../../core/names.ts';
import { parseSecretBody, parseSecretRef, type SecretStore } from '../control/secrets.ts';
import type { Namespaces } from '../control/namespaces.ts';
import { queryString } from './query.ts';

export function createSecretRoutes(d: { secrets: SecretStore; namespaces: Namespaces; onChange: () => void }): Router {
  const r = Router();
  r.get('/system/secrets', async (req, res) => {
    const namespace = validateNamespace(queryString(req.query, 'namespace'));
    await d.namespaces.check(namespace);
    res.json(await d.secrets.list(namespace));
  });
  r.post('/system/secrets', async (req, res) => {
    const s = parseSecretBody(req.body, 'create secret');
    await d.namespaces.require(s.namespace);
    await d.secrets.create(s);
    res.status(201).end();
  });
  r.put('/system/secrets', async (req, res) => {
    const s = parseSecretBody(req.body, 'update secret');
    await d.secrets.update(s);
    d.onChange();
    res.status(202).end();
  });
  r.delete('/system/secrets', async (req, res) => {
    await d.secrets.remove(parseSecretRef(req.body, 'delete secret'));
    res.status(202).end();
  });
  return r;
}
