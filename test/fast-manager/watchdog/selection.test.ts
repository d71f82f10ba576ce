/**
 * The built-in watchdog's pure parts: how a replica's process is run (mode.ts, the OpenFaaS
 * rules), what a bundle's Dockerfile says (dockerfile.ts), the settings under OpenFaaS names
 * (config.ts, duration.ts) and the request as Http_* variables (cgi-env.ts).
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectRunMode } from '../../../fast-manager/watchdog/mode.ts';
import { readDockerfileWatchdog } from '../../../fast-manager/watchdog/dockerfile.ts';
import { readForkingWatchdogConfig } from '../../../fast-manager/watchdog/config.ts';
import { parseWatchdogDuration } from '../../../fast-manager/watchdog/duration.ts';
import { canonicalHeaderVariable, cgiEnvironment } from '../../../fast-manager/watchdog/cgi-env.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BUNDLE = 'node --import tsx index.ts';

describe('fast-manager watchdog: selection and settings', () => {
  describe('run mode (mode.ts)', () => {
    it("runs the bundle's own fprocess as the HTTP server, as every template here", () => {
      expect(selectRunMode({ envVars: {}, bundleFprocess: BUNDLE }).kind).to.equal('http');
      // envProcess that is the bundle's own (what faas-cli deploy sends from template.yml), spelled differently
      expect(
        selectRunMode({ envVars: {}, envProcess: 'node  --import "tsx" index.ts', bundleFprocess: BUNDLE }).kind,
      ).to.equal('http');
    });

    it("forks a deploy-time fprocess that is not the image's (faas-cli deploy --fprocess cat)", () => {
      const m = selectRunMode({ envVars: {}, envProcess: 'cat', bundleFprocess: BUNDLE });
      expect(m.kind).to.equal('fork');
      expect(m.reason).to.contain('"cat"');
      expect(
        selectRunMode({ envVars: {}, envProcess: 'cat' }).kind,
        "no manifest: the fprocess cannot be the image's",
      ).to.equal('fork');
    });

    it('lets `mode` in the environment decide first, as of-watchdog reads it', () => {
      expect(
        selectRunMode({ envVars: { mode: 'http' }, envProcess: 'python3 server.py', bundleFprocess: BUNDLE }).kind,
      ).to.equal('http');
      expect(selectRunMode({ envVars: { mode: 'streaming' }, bundleFprocess: BUNDLE }).kind).to.equal('fork');
      expect(selectRunMode({ envVars: { mode: 'Serializing' }, bundleFprocess: BUNDLE }).kind).to.equal('fork');
      expect(() => selectRunMode({ envVars: { mode: 'static' }, bundleFprocess: BUNDLE })).to.throw(
        /mode "static" in the function's environment is not supported: use "http".*"streaming"\/"serializing"/,
      );
    });

    it("follows the bundle's Dockerfile: classic watchdog forks, of-watchdog by its ENV mode (default streaming)", () => {
      expect(
        selectRunMode({
          envVars: {},
          bundleFprocess: 'python3 handler.py',
          dockerfile: { watchdog: 'classic-watchdog' },
        }).kind,
      ).to.equal('fork');
      expect(
        selectRunMode({ envVars: {}, bundleFprocess: BUNDLE, dockerfile: { watchdog: 'of-watchdog', mode: 'http' } })
          .kind,
      ).to.equal('http');
      expect(
        selectRunMode({ envVars: {}, bundleFprocess: 'cat', dockerfile: { watchdog: 'of-watchdog' } }).kind,
      ).to.equal('fork');
      expect(
        selectRunMode({
          envVars: { mode: 'http' },
          bundleFprocess: BUNDLE,
          dockerfile: { watchdog: 'classic-watchdog' },
        }).kind,
        'the deployment wins',
      ).to.equal('http');
    });
  });

  describe('Dockerfile (dockerfile.ts)', () => {
    it("reads the templates' own Dockerfiles as of-watchdog in http mode", async () => {
      for (const t of ['node-http', 'onnx-node']) {
        const d = readDockerfileWatchdog(await readFile(join(ROOT, 'templates', t, 'Dockerfile'), 'utf8'));
        expect(d, t).to.deep.equal({ watchdog: 'of-watchdog', mode: 'http' });
      }
    });

    it('tells the classic watchdog from of-watchdog, both copied in as /fwatchdog', async () => {
      expect(
        readDockerfileWatchdog(
          await readFile(join(ROOT, 'test', 'fixtures', 'classic', 'wordcount', 'Dockerfile'), 'utf8'),
        ),
      ).to.deep.equal({ watchdog: 'classic-watchdog' });
      expect(
        readDockerfileWatchdog(
          'FROM alpine:3.20\nADD https://github.com/openfaas/faas/releases/download/0.18.10/fwatchdog /usr/bin\nENV fprocess="cat"\nCMD ["fwatchdog"]\n',
        ).watchdog,
      ).to.equal('classic-watchdog');
      const of =
        'FROM ghcr.io/openfaas/of-watchdog:0.10.1 AS watchdog\nFROM node:20-slim\nCOPY --from=watchdog /fwatchdog /usr/bin/fwatchdog\n# ENV mode=static (a comment)\nENV fprocess="node index.js" \\\n    mode="http" upstream_url="http://127.0.0.1:3000"\nENV mode streaming\n';
      expect(readDockerfileWatchdog(of)).to.deep.equal({ watchdog: 'of-watchdog', mode: 'streaming' });
      expect(readDockerfileWatchdog('FROM node:20\nCMD ["node", "server.js"]\n')).to.deep.equal({});
    });
  });

  describe('settings (config.ts, duration.ts)', () => {
    it('reads durations as the watchdogs do: whole seconds or Go durations', () => {
      expect(parseWatchdogDuration('t', '30', 1)).to.equal(30_000);
      expect(parseWatchdogDuration('t', '1m30s', 1)).to.equal(90_000);
      expect(parseWatchdogDuration('t', '500ms', 1)).to.equal(500);
      expect(parseWatchdogDuration('t', '1.5h', 1)).to.equal(5_400_000);
      expect(parseWatchdogDuration('t', '0', 1)).to.equal(0);
      expect(parseWatchdogDuration('t', undefined, 7)).to.equal(7);
      expect(() => parseWatchdogDuration('exec_timeout', '10 seconds', 1)).to.throw(
        /exec_timeout: "10 seconds" is not a duration/,
      );
      expect(() => parseWatchdogDuration('exec_timeout', '-5s', 1)).to.throw(/not a duration/);
    });

    it("takes fprocess and the OpenFaaS variables, with of-watchdog's defaults", () => {
      const c = readForkingWatchdogConfig({
        fprocess: `sh -c 'tr a-z A-Z'`,
        PORT: '8123',
        FASTGSHARE_FORWARD_TOKEN: 'tok',
      });
      expect(c).to.deep.include({
        argv: ['sh', '-c', 'tr a-z A-Z'],
        port: 8123,
        host: '127.0.0.1',
        readTimeoutMs: 10_000,
        writeTimeoutMs: 10_000,
        execTimeoutMs: 10_000,
        combineOutput: true,
        cgiHeaders: true,
        maxInflight: 0,
        writeDebug: false,
        forwardToken: 'tok',
      });
      const d = readForkingWatchdogConfig({
        fprocess: 'cat',
        function_process: 'wc -c',
        exec_timeout: '0',
        write_timeout: '2m',
        combine_output: 'false',
        cgi_headers: 'false',
        content_type: 'application/json',
        max_inflight: '3',
      });
      expect(d).to.deep.include({
        argv: ['wc', '-c'],
        execTimeoutMs: 0,
        writeTimeoutMs: 120_000,
        combineOutput: false,
        cgiHeaders: false,
        contentType: 'application/json',
        maxInflight: 3,
      });
    });

    it('refuses what it cannot honour, naming the variable', () => {
      expect(() => readForkingWatchdogConfig({})).to.throw(/fprocess: no command to run/);
      expect(() => readForkingWatchdogConfig({ fprocess: 'cat', marshal_request: 'true' })).to.throw(
        /marshal_request=true is not supported/,
      );
      expect(() => readForkingWatchdogConfig({ fprocess: 'cat', combine_output: 'maybe' })).to.throw(
        /combine_output: "maybe" must be true or false/,
      );
      expect(() => readForkingWatchdogConfig({ fprocess: 'cat', max_inflight: '-1' })).to.throw(/max_inflight/);
      expect(() => readForkingWatchdogConfig({ fprocess: `sh -c 'unterminated` })).to.throw(/fprocess/);
    });
  });

  describe('request variables (cgi-env.ts)', () => {
    it('passes headers, method, path and query as Http_* variables', () => {
      expect(canonicalHeaderVariable('x-call-id')).to.equal('X_Call_Id');
      expect(canonicalHeaderVariable('CONTENT-TYPE')).to.equal('Content_Type');
      const env = cgiEnvironment({
        method: 'post',
        url: '/sub/path?a=1&b=two%20words',
        headers: {
          'x-call-id': 'abc',
          'content-type': 'text/plain',
          'content-length': '5',
          host: 'fn:8080',
          'set-cookie': ['one', 'two'],
        },
      });
      expect(env).to.deep.equal({
        Http_X_Call_Id: 'abc',
        Http_Content_Type: 'text/plain',
        Http_Content_Length: '5',
        Http_ContentLength: '5',
        Http_Host: 'fn:8080',
        Http_Set_Cookie: 'one',
        Http_Method: 'POST',
        Http_Query: 'a=1&b=two%20words',
        Http_Path: '/sub/path',
      });
      expect(cgiEnvironment({ method: 'GET', url: '/', headers: {} })).to.deep.equal({
        Http_Method: 'GET',
        Http_ContentLength: '-1',
        Http_Content_Length: '-1',
        Http_Path: '/',
      });
    });
  });
});
