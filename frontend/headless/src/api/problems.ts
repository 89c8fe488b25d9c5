// Turns a failed API answer into words a shopper can read, never a blank page.
export interface Problem {
  title?: string;
  detail?: string;
  status?: number;
  errors?: { detail: string; pointer?: string; header?: string; parameter?: string }[];
}

export function describeProblem(response: Response | undefined, body: unknown): string {
  if (!response) return "The shop cannot be reached right now. Check your connection and try again.";
  const problem = (body ?? {}) as Problem;
  if (response.status === 503) {
    const wait = retryAfterSeconds(response.headers.get("Retry-After"));
    const base = problem.detail || "The shop is briefly unavailable.";
    return wait === null ? `${base} Please try again shortly.` : `${base} Please try again in ${wait} s.`;
  }
  const parts = [problem.title, problem.detail].filter((part): part is string => !!part);
  for (const error of problem.errors ?? []) parts.push(error.detail);
  if (parts.length) return unique(parts).join(" ");
  return `The request failed (${response.status}).`;
}

export function retryAfterSeconds(header: string | null, now: Date = new Date()): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const when = Date.parse(header);
  if (Number.isNaN(when)) return null;
  return Math.max(0, Math.ceil((when - now.getTime()) / 1000));
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
