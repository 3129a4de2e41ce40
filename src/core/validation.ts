/** How every zod refusal reads: `path: message`, paths written as in code (`ingesters[0].streams`). */
import type { z } from 'zod';

function describePath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

export function describeIssue(issue: z.core.$ZodIssue, root = ''): string {
  const path = describePath(issue.path) || root;
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** every issue, `; `-separated; `root` names an issue without a path (e.g. `body`) */
export function describeIssues(error: z.ZodError, root = ''): string {
  return error.issues.map((issue) => describeIssue(issue, root)).join('; ');
}
