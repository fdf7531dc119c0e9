/** A database URL safe to show: the password replaced by ****. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return '<unparseable database URL>';
  }
}
