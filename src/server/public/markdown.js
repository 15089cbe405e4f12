// A small Markdown renderer for cited passages. It builds DOM nodes and sets only
// textContent and vetted href values, never innerHTML: HTML in a document shows as text,
// so an indexed file cannot inject markup or script into the page.
// Supported: ATX headings, paragraphs, lists, block quotes, fenced code, pipe tables,
// rules; inline code, **strong**, *emphasis*, links, autolinks and backslash escapes.

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$/;
const LIST_ITEM = /^( *)([-*+]|\d{1,9}[.)])[ \t]+(.*)$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const TABLE_ROW = /^ {0,3}\|.*\|[ \t]*$/;
const TABLE_RULE = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

// Code span | image | link | autolink | strong | emphasis | escaped character.
const INLINE =
  /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|!\[([^\]]*)\]\([^)]*\)|\[([^\]]+)\]\(\s*([^)\s]*)(?:\s+"[^"]*")?\s*\)|<((?:https?|mailto):[^\s<>]+)>|(\*\*|__)(?=\S)([\s\S]*?\S)\7|(\*|_)(?=[^\s*_])([\s\S]*?[^\s])\9|\\([!-/:-@[-`{-~])/g;
const WORD = /[\p{L}\p{N}_]/u;
const SAFE_URL = /^(?:https?:|mailto:|#)/i;

/** Renders `text` as Markdown into a DocumentFragment. */
export function renderMarkdown(text) {
  const out = document.createDocumentFragment();
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let paragraph = [];
  const flush = () => {
    if (paragraph.length) out.append(block("p", paragraph.join(" ")));
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const body = [];
      for (i++; i < lines.length && !lines[i].trimStart().startsWith(fence[1]); i++) body.push(lines[i]);
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      code.textContent = body.join("\n");
      pre.append(code);
      out.append(pre);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      // The dialog's title is an h3; a passage's headings sit below it.
      out.append(block(`h${Math.min(6, heading[1].length + 3)}`, heading[2]));
      continue;
    }
    if (RULE.test(line)) {
      flush();
      out.append(document.createElement("hr"));
      continue;
    }
    if (TABLE_ROW.test(line)) {
      flush();
      const rows = [];
      for (; i < lines.length && (TABLE_ROW.test(lines[i]) || (rows.length && TABLE_RULE.test(lines[i]))); i++) {
        rows.push(lines[i]);
      }
      i--;
      out.append(table(rows));
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      flush();
      const ordered = /\d/.test(item[2]);
      const list = document.createElement(ordered ? "ol" : "ul");
      if (ordered && Number.parseInt(item[2], 10) !== 1) list.start = Number.parseInt(item[2], 10);
      for (; i < lines.length; i++) {
        const next = LIST_ITEM.exec(lines[i]);
        if (next && /\d/.test(next[2]) === ordered) {
          const li = block("li", next[3]);
          // Nested items are shown indented by their depth rather than as nested lists.
          if (next[1].length >= 2) li.style.marginLeft = `${Math.floor(next[1].length / 2)}em`;
          list.append(li);
        } else if (lines[i].trim() && /^\s{2,}/.test(lines[i]) && list.lastChild) {
          inline(` ${lines[i].trim()}`, list.lastChild);
        } else break;
      }
      i--;
      out.append(list);
      continue;
    }
    const quote = QUOTE.exec(line);
    if (quote) {
      flush();
      const text = [];
      for (; i < lines.length && QUOTE.test(lines[i]); i++) text.push(QUOTE.exec(lines[i])[1]);
      i--;
      out.append(block("blockquote", text.join(" ")));
      continue;
    }
    if (line.trim() === "") flush();
    else paragraph.push(line.trim());
  }
  flush();
  return out;
}

function block(tag, text) {
  const element = document.createElement(tag);
  inline(text, element);
  return element;
}

function cells(row) {
  return row
    .trim()
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

function table(rows) {
  const element = document.createElement("table");
  // With a rule under the first row, that row is the header; a chunk cut mid-table has none.
  const hasHeader = rows.length > 1 && TABLE_RULE.test(rows[1]);
  rows.forEach((row, r) => {
    if (hasHeader && r === 1) return;
    const tr = document.createElement("tr");
    for (const cell of cells(row)) tr.append(block(hasHeader && r === 0 ? "th" : "td", cell));
    element.append(tr);
  });
  return element;
}

/** Appends `text` to `parent`, turning inline Markdown into elements. */
function inline(text, parent) {
  const re = new RegExp(INLINE.source, "gu");
  let done = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const delimiter = m[7] || m[9];
    // `_` emphasis needs word edges outside it (CommonMark): d_k and snake_case stay as typed.
    if (delimiter?.startsWith("_") && (WORD.test(text[m.index - 1] ?? "") || WORD.test(text[re.lastIndex] ?? ""))) {
      re.lastIndex = m.index + 1;
      continue;
    }
    parent.append(text.slice(done, m.index));
    done = re.lastIndex;
    if (m[1]) {
      const code = document.createElement("code");
      code.textContent = m[2];
      parent.append(code);
    } else if (m[3] !== undefined) {
      // Images are not fetched (the page stays offline and cannot be made to call out): their alt text stands in.
      parent.append(m[3]);
    } else if (m[4] !== undefined) {
      parent.append(link(m[4], m[5]));
    } else if (m[6]) {
      parent.append(link(m[6], m[6], true));
    } else if (m[7]) {
      const strong = document.createElement("strong");
      inline(m[8], strong);
      parent.append(strong);
    } else if (m[9]) {
      const em = document.createElement("em");
      inline(m[10], em);
      parent.append(em);
    } else {
      parent.append(m[11]);
    }
  }
  parent.append(text.slice(done));
}

function link(label, url, plain = false) {
  if (!SAFE_URL.test(url)) {
    const span = document.createElement("span");
    inline(label, span);
    return span;
  }
  const a = document.createElement("a");
  a.href = url;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  if (plain) a.textContent = label;
  else inline(label, a);
  return a;
}
