/** A parsed element of the minimal HTML/SVG parser used by the report tests. */
export interface Element {
  readonly tag: string;
  readonly attrs: Record<string, string>;
  readonly children: Element[];
  text: string;
}

const VOID = new Set(['meta', 'link', 'br', 'hr', 'img', 'input', 'col', 'area', 'base', 'source', 'wbr']);

/**
 * Parses the report's HTML strictly: every non-void tag must be closed in order, attributes
 * must be quoted. Throws naming the first problem. (No DOM library is installed, and a strict
 * parser is what a hand-written renderer should satisfy anyway.)
 */
export function parseHtml(html: string): Element {
  const root: Element = { tag: '#root', attrs: {}, children: [], text: '' };
  const stack: Element[] = [root];
  const re = /<!--[\s\S]*?-->|<!doctype[^>]*>|<\/([a-zA-Z][\w:-]*)\s*>|<([a-zA-Z][\w:-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*(\/?)>|([^<]+)|(<)/gi;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    const [, close, open, attrText, selfClose, text, stray] = m;
    const top = stack[stack.length - 1] as Element;
    if (stray) throw new Error(`stray "<" at ${m.index}: ${html.slice(m.index, m.index + 40)}`);
    if (text !== undefined) top.text += text;
    else if (close) {
      if (top.tag !== close.toLowerCase()) throw new Error(`</${close}> closes <${top.tag}> at ${m.index}`);
      stack.pop();
    } else if (open) {
      const attrs: Record<string, string> = {};
      for (const a of (attrText ?? '').matchAll(/([\w:-]+)(?:="([^"]*)")?/g)) attrs[a[1] as string] = a[2] ?? '';
      const el: Element = { tag: open.toLowerCase(), attrs, children: [], text: '' };
      top.children.push(el);
      if (!selfClose && !VOID.has(el.tag)) stack.push(el);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]?.tag}>`);
  return root;
}

/** Every element below `el` matching the predicate. */
export function findAll(el: Element, match: (e: Element) => boolean): Element[] {
  const out: Element[] = [];
  const walk = (e: Element): void => {
    for (const c of e.children) {
      if (match(c)) out.push(c);
      walk(c);
    }
  };
  walk(el);
  return out;
}
