// The checkbox model list of takopi_nb's picker (an anywidget ES module, no build step).
//
// The kernel sends the rows once (trait `rows`) and owns the selection (trait `value`,
// linked to provider.models). Searching, filtering, switching tabs, hovering and moving
// with the keyboard happen here, with no kernel round trip; only a change of the selection
// is sent back. Outside text is always set with textContent, never parsed as markup.
//
// A row: [id, name, family, context, max output, price, cached price, modalities,
//         flags, status, dates, purpose, group]   (trailing empty cells are dropped)
// Flag F.listed is not a feature: the provider's key can list the model at the type's
// default endpoint. Such rows get a ● and the filter "available to my key".

const ROW_H = 28;
// The list is as tall as its rows, from MIN_ROWS (room for the "no match" line) to
// VIEW_ROWS, then scrolls. Its height follows the rows with no search typed, so it stays
// put while the user types.
const MIN_ROWS = 3;
const VIEW_ROWS = 12;
const OVERSCAN = 6;
const F = { tools: 1, reasoning: 2, image: 4, structured: 8, attachments: 16, embedding: 32, open: 64, listed: 128 };
const LISTED_TEXT = "available to this key";
const NOT_IN_CATALOG = "not in catalog";
const TAB_LABEL = { chat: "Chat", embedding: "Embeddings" };
const FILTERS = {
  chat: [["tools", "tools"], ["reasoning", "reasoning"], ["image", "image input"], ["hideDeprecated", "hide deprecated"]],
  embedding: [["hideDeprecated", "hide deprecated"]],
};

// The rows come gzipped (JSON, base64): a fifth of the bytes for a long list.
async function unpack(packed) {
  if (!packed) return [];
  const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function haystack(r) {
  return `${r[0]}\n${r[1] || r[0]}\n${r[2] || ""}`.toLowerCase();
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// The same matching and ranking as takopi_nb.catalog search_models: every word must occur
// in id, name or family; exact first, then prefixes, then word starts; deprecated last.
function search(rows, hays, idx, query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return idx;
  const kept = idx.filter((i) => words.every((w) => hays[i].includes(w)));
  const phrase = words.join(" ");
  const wordStart = new RegExp("(?:^|[^a-z0-9])" + escapeRe(words[0]));
  const rank = (i) => {
    const t = hays[i];
    let r;
    if (t.startsWith(phrase + "\n") || t.includes("\n" + phrase + "\n") || t.includes("/" + phrase + "\n")) r = 0;
    else if (t.startsWith(phrase) || t.includes("\n" + phrase) || t.includes("/" + phrase)) r = 2;
    else if (wordStart.test(t)) r = 4;
    else r = 6;
    return r + (rows[i][9] === "deprecated" ? 1 : 0);
  };
  const keyed = kept.map((i, order) => [rank(i), order, i]);
  keyed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return keyed.map((k) => k[2]);
}

// "251201" -> "2025-12-01", "2512" -> "2025-12" (rows carry dates short).
function longDate(d) {
  if (!/^\d{4}(\d\d)?$/.test(d || "")) return d;
  return `20${d.slice(0, 2)}-${d.slice(2, 4)}` + (d.length > 4 ? `-${d.slice(4)}` : "");
}

function passes(row, f) {
  const flags = row[8] || 0;
  if (f.tools && !(flags & F.tools)) return false;
  if (f.reasoning && !(flags & F.reasoning)) return false;
  if (f.image && !(flags & F.image)) return false;
  if (f.hideDeprecated && row[9] === "deprecated") return false;
  if (f.listed && !(flags & F.listed)) return false;
  return true;
}

function render({ model, el }) {
  const purposes = model.get("purposes");
  const s = {
    tab: purposes[0],
    query: "",
    filters: {},
    detail: {},
    active: {},
    matches: [],
    undo: null,
    viewRows: MIN_ROWS,
  };
  for (const p of purposes) {
    s.filters[p] = { hideDeprecated: true };
    s.active[p] = 0;
  }
  let rows = [];
  let hays = [];
  let byPurpose = {};
  let idsOf = {}; // purpose -> Set of ids, for the per-keystroke count
  let selected = new Set();
  let unknown = new Set();
  let listedIn = {}; // purpose -> how many rows the key can list (0: no marks, no filter)

  // Lumino must not read the list's keys (arrows, Space) as notebook shortcuts.
  const root = h("div", { class: "tml mathjax_ignore tex2jax_ignore", "data-lm-suppress-shortcuts": "true" });
  el.append(root);
  // -- the top line: tabs and search
  const tablist = h("div", { class: "tml-tabs", role: "tablist", "aria-label": "Model kind" });
  const tabs = {};
  for (const p of purposes) {
    tabs[p] = h("button", { class: "tml-tab", role: "tab", type: "button", text: TAB_LABEL[p] || p });
    tabs[p].addEventListener("click", () => switchTab(p));
    tablist.append(tabs[p]);
  }
  const searchBox = h("input", {
    class: "tml-search",
    type: "search",
    placeholder: "Search models: id, name or family…",
    "aria-label": "Search models",
    spellcheck: "false",
    autocomplete: "off",
  });
  root.append(h("div", { class: "tml-top" }, tablist, searchBox));
  const filterBar = h("div", { class: "tml-filters" });
  root.append(filterBar);
  // -- the list
  const head = h(
    "div",
    { class: "tml-row tml-head", "aria-hidden": "true" },
    h("span", { class: "tml-box" }),
    h("span", { class: "tml-id", text: "model id" }),
    h("span", { class: "tml-ctx", text: "context" }),
    h("span", { class: "tml-price", text: "$ in / out, 1M" }),
    h("span", { class: "tml-flags", text: "features" }),
  );
  const spacer = h("div", { class: "tml-spacer" });
  const list = h("div", { class: "tml-list", role: "group", "aria-label": "Models: Space or click selects, arrow keys move" }, spacer);
  list.style.height = `${ROW_H * MIN_ROWS}px`;
  root.append(head, list);
  // -- count, bulk actions, undo
  const count = h("span", { class: "tml-count" });
  const hint = h("button", { class: "tml-link", type: "button" });
  const selectAll = h("button", { class: "tml-button", type: "button", text: "Select visible" });
  const clearAll = h("button", { class: "tml-button", type: "button", text: "Clear visible" });
  const undoLine = h("span", { class: "tml-undo", "aria-live": "polite" });
  root.append(h("div", { class: "tml-actions" }, count, hint, h("span", { class: "tml-grow" }), selectAll, clearAll));
  root.append(undoLine);
  const details = h("div", { class: "tml-details", "aria-live": "polite" });
  const chips = h("div", { class: "tml-chips" });
  // An id the catalog does not list (a proxy's, a new release): the kernel checks and adds it.
  const manual = h("input", { class: "tml-search", type: "text", placeholder: "Add a model id by hand (proxies, new releases)", "aria-label": "Model id to add", spellcheck: "false", autocomplete: "off" });
  const addButton = h("button", { class: "tml-button", type: "button", text: "Add id" });
  const add = () => {
    if (manual.value.trim()) model.send({ add: manual.value });
    manual.value = "";
  };
  addButton.addEventListener("click", add);
  manual.addEventListener("keydown", (e) => e.key === "Enter" && add());
  root.append(details, chips, h("div", { class: "tml-top tml-add" }, manual, addButton));

  function setValue(next) {
    model.set("value", next);
    model.save_changes();
  }

  function toggle(id) {
    const current = model.get("value");
    setValue(selected.has(id) ? current.filter((m) => m !== id) : [...current, id]);
  }

  function loadRows(unpacked) {
    rows = unpacked;
    hays = rows.map(haystack);
    byPurpose = {};
    for (const p of purposes) byPurpose[p] = [];
    rows.forEach((r, i) => (byPurpose[r[11] || purposes[0]] || []).push(i));
    idsOf = {};
    for (const p of purposes) idsOf[p] = new Set(byPurpose[p].map((i) => rows[i][0]));
    listedIn = {};
    for (const p of purposes) listedIn[p] = byPurpose[p].filter((i) => (rows[i][8] || 0) & F.listed).length;
    drawFilters();
  }

  function loadValue() {
    selected = new Set(model.get("value"));
    unknown = new Set(model.get("unknown"));
  }

  // Selected ids that no row knows are listed first (when they match), so a hand-added id
  // can be seen and unselected in either tab.
  function extraRows(query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return model
      .get("value")
      .filter((m) => unknown.has(m) && words.every((w) => m.toLowerCase().includes(w)))
      .map((m) => [m, "", "", "", "", "", "", "", 0, NOT_IN_CATALOG, "", "", -1]);
  }

  function matchesFor(p, query = s.query) {
    const f = s.filters[p];
    return search(rows, hays, byPurpose[p].filter((i) => passes(rows[i], f)), query);
  }

  // With more than one list (trait `groups`, e.g. "served by this endpoint" and the
  // catalog), the matches are shown list by list, each under a heading (an entry that is
  // not an array), best first within each.
  function arrange(query) {
    const extra = extraRows(query);
    const matched = matchesFor(s.tab, query).map((i) => rows[i]);
    const labels = model.get("groups");
    let shown = [...extra, ...matched];
    if (labels.length > 1) {
      // Ids selected by hand that no list has get a heading of their own, so they do not
      // read as part of the first list.
      shown = extra.length ? [{ header: `Selected by hand, in neither list (${extra.length})` }, ...extra] : [];
      labels.forEach((label, g) => {
        const members = matched.filter((r) => (r[12] || 0) === g);
        if (members.length) shown.push({ header: `${label} (${members.length})` }, ...members);
      });
    }
    return { shown, rows: [...extra, ...matched] };
  }

  // `typed`: only the search changed, which leaves the height as it is (and saves a pass).
  function recompute(typed = false) {
    const now = arrange(s.query);
    s.shown = now.shown;
    s.rows = now.rows;
    if (s.active[s.tab] >= s.shown.length) s.active[s.tab] = Math.max(0, s.shown.length - 1);
    spacer.style.height = `${s.shown.length * ROW_H}px`;
    if (!typed) {
      // Whole rows only, so the virtual scrolling's row arithmetic holds at every height.
      const fit = s.query.trim() ? arrange("").shown.length : s.shown.length;
      s.viewRows = Math.min(VIEW_ROWS, Math.max(MIN_ROWS, fit));
      list.style.height = `${s.viewRows * ROW_H}px`;
    }
    drawRows();
    drawCount();
  }

  // Row nodes are kept (keyed by row) and updated in place: a node replaced between a
  // mousedown and its mouseup would lose the click, e.g. when the kernel's echo of the
  // previous click redraws the list.
  let drawn = new Map();

  function headNode(entry, i) {
    const key = `${s.tab}\n\n${entry.header}`;
    const node = drawn.get(key) || h("div", { class: "tml-row tml-group", role: "presentation" }, h("span", { text: entry.header }));
    node.dataset.i = String(i);
    node.style.top = `${i * ROW_H}px`;
    return [key, node];
  }

  function rowNode(r, i) {
    if (!Array.isArray(r)) return headNode(r, i);
    const on = selected.has(r[0]);
    const key = `${s.tab}\n${r[0]}`;
    let node = drawn.get(key);
    if (!node) {
      const listed = Boolean((r[8] || 0) & F.listed);
      const outside = r[9] === NOT_IN_CATALOG;
      let label = r[1] && r[1] !== r[0] ? `${r[0]} (${r[1]})` : r[0];
      if (listed) label += `, ${LISTED_TEXT}`;
      if (outside) label += `, ${NOT_IN_CATALOG}`;
      const id = h("span", { class: "tml-id" });
      // The ● (or, in a list that has marks, a blank of its width so the ids line up).
      if (listedIn[s.tab]) id.append(h("span", { class: "tml-mark", "aria-hidden": "true", text: listed ? "●" : "" }));
      id.append(h("span", { class: "tml-idtext", text: r[0], title: r[0] })); // cut with … when narrow
      // The features column says it too, but narrow lists hide that column (CSS shows this then).
      if (outside) id.append(h("span", { class: "tml-badge tml-nib", "aria-hidden": "true", text: NOT_IN_CATALOG }));
      node = h(
        "div",
        {
          role: "checkbox",
          "aria-label": label,
        },
        h("span", { class: "tml-box", "aria-hidden": "true" }),
        id,
        h("span", { class: "tml-ctx", text: r[3] || "" }),
        h("span", { class: "tml-price", text: r[5] || "" }),
        h("span", { class: "tml-flags", text: flagText(r) }),
      );
    }
    node.className = "tml-row" + (on ? " tml-on" : "") + (r[12] === -1 ? " tml-unknown" : "");
    node.setAttribute("aria-checked", on ? "true" : "false");
    node.setAttribute("tabindex", i === s.active[s.tab] ? "0" : "-1");
    node.dataset.i = String(i);
    node.firstChild.textContent = on ? "✓" : "";
    node.style.top = `${i * ROW_H}px`;
    return [key, node];
  }

  function flagText(r) {
    const out = [];
    const flags = r[8] || 0;
    if (flags & F.tools) out.push("tools");
    if (flags & F.reasoning) out.push("reasoning");
    if (flags & F.image) out.push("image");
    if (r[9]) out.push(r[9]);
    return out.join(" ");
  }

  function drawRows() {
    const first = Math.max(0, Math.floor(list.scrollTop / ROW_H) - OVERSCAN);
    const last = Math.min(s.shown.length, first + s.viewRows + 2 * OVERSCAN);
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.i : null;
    const kept = new Map();
    for (let i = first; i < last; i++) {
      const [key, node] = rowNode(s.shown[i], i);
      kept.set(key, node);
    }
    for (const [key, node] of drawn) if (!kept.has(key)) node.remove();
    for (const node of kept.values()) if (node.parentNode !== spacer) spacer.append(node);
    drawn = kept;
    for (const empty of spacer.querySelectorAll(".tml-empty")) empty.remove();
    if (!s.shown.length) {
      spacer.append(h("div", { class: "tml-empty", text: "No model matches the search and filters." }));
    }
    if (focused != null) focusRow(Number(focused), false);
  }

  function drawCount() {
    const all = model.get("value");
    const inTab = idsOf[s.tab];
    const byHand = all.filter((m) => unknown.has(m)).length; // listed in every tab
    const here = all.filter((m) => inTab.has(m)).length + byHand;
    const total = inTab.size + byHand;
    const parts = [`${here} of ${total} selected`];
    const searching = s.query.trim() !== "";
    if (searching || s.rows.length !== total) parts.push(`${s.rows.length} match`);
    count.textContent = parts.join(" · ");
    hint.hidden = true;
    if (searching) {
      for (const p of purposes) {
        if (p === s.tab) continue;
        const n = matchesFor(p).length;
        if (n) {
          hint.textContent = `${n} match under ${TAB_LABEL[p] || p}`;
          hint.onclick = () => switchTab(p);
          hint.hidden = false;
        }
      }
    }
    selectAll.textContent = `Select visible (${s.rows.length})`;
    selectAll.disabled = clearAll.disabled = s.rows.length === 0;
  }

  function drawChips() {
    const all = model.get("value");
    chips.replaceChildren();
    if (!all.length) {
      chips.append(h("span", { class: "tml-muted", text: "No models selected: select at least one to use this provider." }));
      return;
    }
    chips.append(h("b", { text: `Selected (${all.length}):` }));
    for (const m of all) {
      const x = h("button", { class: "tml-x", type: "button", "aria-label": `Remove ${m}`, title: `Remove ${m}`, text: "×" });
      x.addEventListener("click", () => setValue(model.get("value").filter((v) => v !== m)));
      const chip = h("span", { class: "tml-chip" + (unknown.has(m) ? " tml-chip-unknown" : "") }, h("code", { text: m }));
      if (unknown.has(m)) chip.append(h("span", { class: "tml-badge", text: NOT_IN_CATALOG }));
      chip.append(x);
      chips.append(chip);
    }
  }

  function drawDetails() {
    const id = s.detail[s.tab];
    const r = id == null ? null : s.shown.find((x) => x[0] === id) || rows.find((x) => x[0] === id);
    details.replaceChildren();
    if (!r) {
      details.append(h("span", { class: "tml-muted", text: "Hover over or move to a model to see its details; click it or press Space to select it." }));
      return;
    }
    const title = h("div", {}, h("b", { text: r[0] }));
    if (selected.has(r[0])) title.append(h("span", { class: "tml-badge tml-badge-ok", text: "selected" }));
    if (r[12] === -1) {
      title.append(h("span", { class: "tml-badge", text: NOT_IN_CATALOG }));
      details.append(title, h("div", { class: "tml-muted", text: "This id is not in the models.dev catalog. It is sent to the provider unchanged; the provider decides whether it exists." }));
      return;
    }
    if (r[9]) title.append(h("span", { class: "tml-badge", text: r[9] }));
    const flags = r[8] || 0;
    if (flags & F.listed) title.append(h("span", { class: "tml-badge tml-badge-ok", text: `● ${LISTED_TEXT}` }));
    const abilities = Object.entries({ tools: F.tools, reasoning: F.reasoning, "structured output": F.structured, attachments: F.attachments, embeddings: F.embedding, "open weights": F.open })
      .filter(([, bit]) => flags & bit)
      .map(([name]) => name)
      .join(", ");
    const table = h("dl", { class: "tml-dl" });
    const add = (k, v) => v && table.append(h("dt", { text: k }), h("dd", { text: v }));
    if (r[1] && r[1] !== r[0]) add("Name", r[1]);
    add("Family", r[2]);
    add("Context", r[3]);
    add("Max output", r[4]);
    add("Price", r[5] ? `${r[5]} (in / out, USD per 1M tokens)` : "");
    add("Input → output", r[7]);
    add("Abilities", abilities || "—");
    const [knowledge, released, updated] = (r[10] || "").split("|").map(longDate);
    add("Dates", [["knowledge", knowledge], ["released", released], ["updated", updated]].filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(", "));
    details.append(title, table);
    if (r[9] === NOT_IN_CATALOG) {
      // Listed by the endpoint itself: say why most details are missing.
      details.append(h("div", { class: "tml-muted", text: "Listed by the provider's endpoint; not in the models.dev catalog, so its prices and limits are unknown here." }));
    }
  }

  function focusRow(i, scroll = true, step = 1) {
    if (!s.shown.length) return;
    i = Math.max(0, Math.min(s.shown.length - 1, i));
    // Headings are not rows: move on past them (or back, at the end of the list).
    while (!Array.isArray(s.shown[i]) && s.shown[i + step]) i += step;
    while (!Array.isArray(s.shown[i]) && s.shown[i - step]) i -= step;
    s.active[s.tab] = i;
    if (scroll) {
      const top = i * ROW_H;
      if (top < list.scrollTop) list.scrollTop = top;
      else if (top + ROW_H > list.scrollTop + list.clientHeight) list.scrollTop = top + ROW_H - list.clientHeight;
    }
    let node = spacer.querySelector(`[data-i="${i}"]`);
    if (!node) {
      drawRows();
      node = spacer.querySelector(`[data-i="${i}"]`);
    }
    for (const other of spacer.querySelectorAll('[tabindex="0"]')) other.setAttribute("tabindex", "-1");
    if (node) {
      node.setAttribute("tabindex", "0");
      if (document.activeElement !== node) node.focus({ preventScroll: true });
    }
  }

  function showDetail(i) {
    const r = s.shown[i];
    if (Array.isArray(r) && s.detail[s.tab] !== r[0]) {
      s.detail[s.tab] = r[0];
      drawDetails();
    }
  }

  function drawFilters() {
    filterBar.replaceChildren(h("span", { class: "tml-muted", text: "Only:" }));
    const all = [...(FILTERS[s.tab] || FILTERS.embedding)];
    // Narrow to what the key can use; offered only once the endpoint said which those are.
    if (listedIn[s.tab]) {
      const mark = h("span", { class: "tml-mark", "aria-hidden": "true", text: "●" });
      const label = h("span", {}, mark, ` available to my key (${listedIn[s.tab]})`);
      all.unshift(["listed", label]);
    } else {
      s.filters[s.tab].listed = false;
    }
    for (const [key, label] of all) {
      const box = h("input", { type: "checkbox" });
      box.checked = Boolean(s.filters[s.tab][key]);
      box.addEventListener("change", () => {
        s.filters[s.tab][key] = box.checked;
        list.scrollTop = 0;
        recompute();
      });
      filterBar.append(h("label", { class: "tml-filter" }, box, label));
    }
  }

  function switchTab(p) {
    s.tab = p;
    for (const [q, tab] of Object.entries(tabs)) {
      tab.setAttribute("aria-selected", q === p ? "true" : "false");
      tab.classList.toggle("tml-tab-on", q === p);
      tab.setAttribute("tabindex", q === p ? "0" : "-1");
    }
    list.scrollTop = 0;
    drawFilters();
    recompute();
    drawDetails();
  }

  function bulk(select) {
    const before = model.get("value");
    const ids = s.rows.map((r) => r[0]);
    let next;
    if (select) {
      const have = new Set(before);
      next = [...before, ...ids.filter((m) => !have.has(m))];
    } else {
      const drop = new Set(ids);
      next = before.filter((m) => !drop.has(m));
    }
    const changed = Math.abs(next.length - before.length);
    if (!changed) return;
    setValue(next);
    const undo = h("button", { class: "tml-link", type: "button", text: "Undo" });
    undo.addEventListener("click", () => {
      setValue(before);
      undoLine.replaceChildren(h("span", { class: "tml-muted", text: "Undone." }));
    });
    undoLine.replaceChildren(h("span", { text: `${select ? "Selected" : "Unselected"} ${changed} model${changed === 1 ? "" : "s"}. ` }), undo);
  }

  // -- events
  let typing = 0;
  searchBox.addEventListener("input", () => {
    s.query = searchBox.value;
    list.scrollTop = 0;
    s.active[s.tab] = 0;
    recompute(true);
    typing++;
  });
  searchBox.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      focusRow(s.active[s.tab]);
      showDetail(s.active[s.tab]);
    }
  });
  let frame = 0;
  list.addEventListener("scroll", () => {
    if (!frame) frame = requestAnimationFrame(() => ((frame = 0), drawRows()));
  });
  list.addEventListener("click", (e) => {
    const node = e.target.closest(".tml-row[data-i]");
    if (!node) return;
    const i = Number(node.dataset.i);
    if (!Array.isArray(s.shown[i])) return;
    focusRow(i, false);
    showDetail(i);
    toggle(s.shown[i][0]);
  });
  // mousemove, not mouseover: rows redrawn under a still pointer must not steal the details
  // from the row the keyboard moved to.
  list.addEventListener("mousemove", (e) => {
    const node = e.target.closest(".tml-row[data-i]");
    if (node) showDetail(Number(node.dataset.i));
  });
  list.addEventListener("focusin", (e) => {
    const node = e.target.closest(".tml-row[data-i]");
    if (node) showDetail(Number(node.dataset.i));
  });
  list.addEventListener("keydown", (e) => {
    const i = s.active[s.tab];
    const moves = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: s.shown.length - 1, PageDown: i + s.viewRows, PageUp: i - s.viewRows };
    if (e.key in moves) {
      e.preventDefault();
      focusRow(moves[e.key], true, moves[e.key] < i ? -1 : 1);
      showDetail(s.active[s.tab]);
    } else if (e.key === " " || e.key === "Enter") {
      e.preventDefault();
      if (Array.isArray(s.shown[i])) toggle(s.shown[i][0]);
    }
  });
  tablist.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const at = purposes.indexOf(s.tab);
    const next = purposes[(at + (e.key === "ArrowRight" ? 1 : purposes.length - 1)) % purposes.length];
    switchTab(next);
    tabs[next].focus();
  });
  selectAll.addEventListener("click", () => bulk(true));
  clearAll.addEventListener("click", () => bulk(false));

  const onValue = () => {
    loadValue();
    recompute();
    drawChips();
    drawDetails();
  };
  let loading = 0;
  const onRows = () => {
    const mine = ++loading;
    unpack(model.get("packed")).then((unpacked) => {
      if (mine !== loading) return; // a newer list arrived meanwhile
      drawn.forEach((node) => node.remove());
      drawn = new Map();
      loadRows(unpacked);
      onValue();
    });
  };
  model.on("change:value", onValue);
  model.on("change:unknown", onValue);
  model.on("change:packed", onRows);
  model.on("change:groups", onRows);
  if (purposes.length < 2) tablist.hidden = true;
  loadRows([]);
  loadValue();
  switchTab(s.tab);
  drawChips();
  onRows();
  // For the benchmark and the browser tests: how many keystrokes were filtered here.
  el.dataset.keystrokes = "0";
  searchBox.addEventListener("input", () => (el.dataset.keystrokes = String(typing)));
  return () => {
    model.off("change:value", onValue);
    model.off("change:unknown", onValue);
    model.off("change:packed", onRows);
    model.off("change:groups", onRows);
  };
}

export default { render };
