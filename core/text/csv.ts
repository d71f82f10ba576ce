/** CSV fields (RFC 4180): a field is quoted when it holds a comma, a quote or a line break, its quotes doubled. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
