/** The strong ETag of content with this sha256 (hex). */
export function etagOf(sha256: string): string {
  return `"${sha256}"`;
}

/**
 * True when an `If-None-Match` header names `etag` (or is `*`). Comparison is weak, as
 * RFC 9110 asks for `If-None-Match`: `W/"x"` matches `"x"`.
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => bare(tag) === bare(etag));
}
