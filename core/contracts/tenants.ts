/** Tenant wire types (`/system/tenants`), shared by the gateway, the CLI and the tests. */

export interface TenantInfo {
  name: string;
  namespaces: string[];
  createdAt?: string;
}

/** What create and rotate answer: the only time the password is ever shown. */
export interface IssuedCredentials extends TenantInfo {
  username: string;
  password: string;
  /** `Authorization: Bearer <apiKey>` works wherever basic auth does. */
  apiKey: string;
  generated: boolean;
}
