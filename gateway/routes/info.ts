/** /system/info: every nested object present (faas-cli version crashes otherwise). */
import { Router } from 'express';
import { arch } from 'node:os';
import { execFileSync } from 'node:child_process';
import type { SystemInfo } from '../../core/contracts/openfaas.ts';
import { PLATFORM_ROOT, VERSION } from '../../core/version.ts';

/** Commit facts from git when the code runs from a checkout; "unknown" otherwise. */
export function readGitFacts(cwd = PLATFORM_ROOT): { sha: string; message: string } {
  const git = (args: string[]) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2_000 }).trim();
  try {
    return { sha: git(['rev-parse', 'HEAD']), message: git(['log', '-1', '--format=%s']) };
  } catch {
    return { sha: 'unknown', message: 'unknown' };
  }
}

const ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'arm64', arm: 'armhf', ia32: 'i386' };

export function systemInfo(git: { sha: string; message: string }): SystemInfo {
  return {
    provider: { provider: 'fastgshare', orchestration: 'fast-manager', version: { sha: git.sha, release: VERSION } },
    version: { commit_message: git.message, sha: git.sha, release: VERSION },
    arch: ARCH[arch()] ?? arch(),
  };
}

export function createInfoRoutes(): Router {
  const info = systemInfo(readGitFacts());
  const r = Router();
  r.get('/system/info', (_req, res) => {
    res.json(info);
  });
  return r;
}
