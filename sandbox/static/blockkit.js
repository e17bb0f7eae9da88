// Block Kit and mrkdwn, rendered the way Slack's client shows them.
//
// Everything becomes DOM nodes built with textContent: no string of the bot's (or of a
// customer's) ever reaches innerHTML, so escaped customer text stays literal text.
// window.BlockKit.render(blocks, ctx) -> DocumentFragment
//   ctx.person(id) -> {name}           ctx.channelName(id) -> name
//   ctx.tz                              ctx.now -> Date
//   ctx.act(block, element, choice)     called when an element sends an action
//   ctx.register(block, element, read)  modals: read() gives the element's state
//   ctx.errors {block_id: message}      ctx.confirm(confirmObject) -> Promise<boolean>
"use strict";

(function () {
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child);
    }
    return node;
  }

  // Slack escapes only these three; nothing else is an entity in mrkdwn.
  function decode(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  // -- dates ----------------------------------------------------------------------------

  function parts(date, tz) {
    const fields = new Intl.DateTimeFormat("en-GB", {
      timeZone: tz, year: "numeric", month: "numeric", day: "numeric", weekday: "short",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).formatToParts(date);
    const get = (type) => fields.find((f) => f.type === type).value;
    const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(get("weekday"));
    return {
      year: Number(get("year")), month: Number(get("month")), day: Number(get("day")),
      weekday, hour: get("hour"), minute: get("minute"), second: get("second"),
    };
  }

  function ordinal(day) {
    if (day % 100 >= 11 && day % 100 <= 13) return day + "th";
    return day + ({ 1: "st", 2: "nd", 3: "rd" }[day % 10] || "th");
  }

  function dayOffset(date, now, tz) {
    const a = parts(date, tz), b = parts(now, tz);
    const days = (p) => Date.UTC(p.year, p.month - 1, p.day) / 86400000;
    return days(a) - days(b);
  }

  function ago(date, now) {
    const seconds = Math.round((now - date) / 1000);
    const span = Math.abs(seconds);
    const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600],
      ["minute", 60]];
    for (const [unit, size] of units) {
      if (span >= size) {
        const n = Math.floor(span / size);
        const words = `${n} ${unit}${n === 1 ? "" : "s"}`;
        return seconds >= 0 ? `${words} ago` : `in ${words}`;
      }
    }
    return "just now";
  }

  // Slack's <!date^…> tokens, in the reader's own time zone.
  function formatDate(timestamp, format, tz, now) {
    const date = new Date(timestamp * 1000);
    const p = parts(date, tz);
    const offset = dayOffset(date, now, tz);
    const pretty = { 0: "today", [-1]: "yesterday", 1: "tomorrow" }[offset];
    const plain = {
      date_num: `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`,
      date: `${MONTHS[p.month - 1]} ${ordinal(p.day)}, ${p.year}`,
      date_short: `${MONTHS[p.month - 1].slice(0, 3)} ${p.day}, ${p.year}`,
      date_long: `${DAYS[p.weekday]}, ${MONTHS[p.month - 1]} ${ordinal(p.day)}, ${p.year}`,
      time: `${p.hour}:${p.minute}`,
      time_secs: `${p.hour}:${p.minute}:${p.second}`,
      ago: ago(date, now),
    };
    plain.date_pretty = pretty || plain.date;
    plain.date_short_pretty = pretty || plain.date_short;
    plain.date_long_pretty = pretty || plain.date_long;
    const text = format.replace(/\{(\w+)\}/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(plain, name) ? plain[name] : whole);
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // -- mrkdwn ---------------------------------------------------------------------------

  const INLINE = new RegExp([
    "<([^<>\\n]+)>", // 1: a link, mention or special token
    "`([^`\\n]+)`", // 2: code
    "(?<![\\w*])\\*(?=\\S)([^*\\n]*?\\S)\\*(?![\\w*])", // 3: bold
    "(?<![\\w_])_(?=\\S)([^_\\n]*?\\S)_(?![\\w_])", // 4: italic
    "(?<![\\w~])~(?=\\S)([^~\\n]*?\\S)~(?![\\w~])", // 5: strike
  ].join("|"), "g");

  function safeUrl(url) {
    return /^(https?:|mailto:)/i.test(url) ? url : null;
  }

  function token(inner, ctx) {
    const [target, label] = splitLabel(inner);
    if (target.startsWith("@")) {
      const id = target.slice(1);
      const person = ctx.person(id);
      const name = person ? person.name : (label || id);
      return el("span", { class: "mention", "data-user": id, text: "@" + name });
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      return el("span", { class: "mention channel", text: "#" + (label || ctx.channelName(id) || id) });
    }
    if (target.startsWith("!")) {
      const command = target.slice(1);
      if (command.startsWith("date^")) {
        const [, stamp, format, link] = command.split("^");
        const when = Number(stamp);
        if (!Number.isFinite(when)) return document.createTextNode(decode(label || ""));
        const text = formatDate(when, format || "{date}", ctx.tz, ctx.now());
        const time = el("time", {
          datetime: new Date(when * 1000).toISOString(),
          title: formatDate(when, "{date_long} {time}", ctx.tz, ctx.now()),
          text,
        });
        const href = link && safeUrl(link);
        return href ? el("a", { href, target: "_blank", rel: "noopener" }, time) : time;
      }
      if (["here", "channel", "everyone"].includes(command)) {
        return el("span", { class: "mention broadcast", text: "@" + command });
      }
      if (command.startsWith("subteam^")) {
        return el("span", { class: "mention", text: label || "@group" });
      }
      return document.createTextNode(decode(label || ""));
    }
    const href = safeUrl(target);
    const shown = decode(label || target);
    return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: shown })
      : document.createTextNode(shown);
  }

  function splitLabel(inner) {
    const bar = inner.indexOf("|");
    return bar < 0 ? [inner, null] : [inner.slice(0, bar), inner.slice(bar + 1)];
  }

  function inline(text, ctx) {
    const out = document.createDocumentFragment();
    let last = 0;
    const pattern = new RegExp(INLINE); // its own lastIndex: inline() recurses into emphasis
    for (let match; (match = pattern.exec(text));) {
      if (match.index > last) out.append(decode(text.slice(last, match.index)));
      if (match[1] !== undefined) out.append(token(match[1], ctx));
      else if (match[2] !== undefined) out.append(el("code", { text: decode(match[2]) }));
      else if (match[3] !== undefined) out.append(el("b", {}, inline(match[3], ctx)));
      else if (match[4] !== undefined) out.append(el("i", {}, inline(match[4], ctx)));
      else if (match[5] !== undefined) out.append(el("s", {}, inline(match[5], ctx)));
      last = pattern.lastIndex;
    }
    if (last < text.length) out.append(decode(text.slice(last)));
    return out;
  }

  const QUOTE = /^(?:>|&gt;) ?/;
  const LIST = /^(\s*)(•|◦|▪|-|\d+\.)\s+/;

  function lines(text, ctx) {
    const out = document.createDocumentFragment();
    let quote = null;
    text.split("\n").forEach((line, index, all) => {
      const quoted = QUOTE.test(line);
      const content = quoted ? line.replace(QUOTE, "") : line;
      let node;
      const list = LIST.exec(content);
      if (list) {
        node = el("div", { class: "mrk-li", style: `--indent:${list[1].length}` },
          el("span", { class: "mrk-bullet", text: list[2] }),
          el("span", {}, inline(content.slice(list[0].length), ctx)));
      } else {
        node = el("span", { class: "mrk-line" }, inline(content, ctx));
      }
      if (quoted) {
        if (!quote) { quote = el("blockquote", { class: "mrk-quote" }); out.append(quote); }
        else quote.append(el("br"));
        quote.append(node);
      } else {
        quote = null;
        out.append(node);
        if (index < all.length - 1 && !list) out.append(el("br"));
      }
    });
    return out;
  }

  function mrkdwn(text, ctx) {
    const out = document.createDocumentFragment();
    const pieces = String(text || "").split(/```/);
    pieces.forEach((piece, index) => {
      if (index % 2 === 1 && index < pieces.length - 1) {
        out.append(el("pre", { class: "mrk-pre", text: decode(piece.replace(/^\n|\n$/g, "")) }));
      } else {
        out.append(lines(index % 2 === 1 ? "```" + piece : piece, ctx));
      }
    });
    return out;
  }

  function textObject(obj, ctx) {
    if (!obj) return document.createTextNode("");
    if (obj.type === "mrkdwn") return mrkdwn(obj.text, ctx);
    return document.createTextNode(obj.text || "");
  }

  function plainOf(obj) {
    return (obj && obj.text) || "";
  }

  // -- elements -------------------------------------------------------------------------

  function optionsOf(element) {
    const groups = element.option_groups || [{ label: null, options: element.options || [] }];
    return groups;
  }

  function button(block, element, ctx) {
    const node = el("button", {
      type: "button",
      class: "bk-button" + (element.style ? " " + element.style : ""),
      "aria-label": element.accessibility_label || undefined,
      text: plainOf(element.text),
    });
    node.addEventListener("click", async () => {
      if (element.confirm && !(await ctx.confirm(element.confirm))) return;
      if (element.url && safeUrl(element.url)) window.open(element.url, "_blank", "noopener");
      ctx.act(block, element, {}, node);
    });
    return node;
  }

  let unique = 0;
  const nextId = (prefix) => `${prefix}-${++unique}`;

  function select(block, element, ctx, { dispatch, labelledBy, id }) {
    const node = el("select", {
      id,
      class: "bk-select",
      "aria-labelledby": labelledBy,
      "aria-label": labelledBy ? undefined : plainOf(element.placeholder) || "Select",
    });
    node.append(el("option", { value: "", text: plainOf(element.placeholder) || "Select an item" }));
    for (const group of optionsOf(element)) {
      const parent = group.label ? el("optgroup", { label: plainOf(group.label) }) : node;
      for (const option of group.options || []) {
        parent.append(el("option", { value: option.value, text: plainOf(option.text) }));
      }
      if (parent !== node) node.append(parent);
    }
    if (element.initial_option) node.value = element.initial_option.value;
    if (dispatch) {
      node.addEventListener("change", () => {
        if (node.value) ctx.act(block, element, { value: node.value }, node);
      });
    }
    ctx.register(block, element, () => ({ value: node.value || null }),
      (choice) => { node.value = (choice && choice.value) || ""; });
    return node;
  }

  function overflow(block, element, ctx) {
    const wrap = el("span", { class: "bk-overflow" });
    const menu = el("div", { class: "bk-menu", role: "menu", hidden: true });
    const toggle = el("button", {
      type: "button", class: "bk-button bk-overflow-toggle", "aria-haspopup": "menu",
      "aria-label": "More options", text: "⋯",
    });
    toggle.addEventListener("click", () => { menu.hidden = !menu.hidden; });
    for (const option of element.options || []) {
      const item = el("button", { type: "button", role: "menuitem", text: plainOf(option.text) });
      item.addEventListener("click", async () => {
        menu.hidden = true;
        if (element.confirm && !(await ctx.confirm(element.confirm))) return;
        if (option.url && safeUrl(option.url)) window.open(option.url, "_blank", "noopener");
        ctx.act(block, element, { value: option.value }, toggle);
      });
      menu.append(item);
    }
    wrap.append(toggle, menu);
    return wrap;
  }

  function choices(block, element, ctx, { dispatch, labelledBy }) {
    const radio = element.type === "radio_buttons";
    const group = el("div", {
      class: "bk-choices", role: radio ? "radiogroup" : "group", "aria-labelledby": labelledBy,
    });
    const name = nextId("choice");
    const initial = new Set((element.initial_options || (element.initial_option ? [element.initial_option] : []))
      .map((o) => o.value));
    const boxes = [];
    for (const option of element.options || []) {
      const id = nextId("opt");
      const box = el("input", { type: radio ? "radio" : "checkbox", id, name, value: option.value });
      box.checked = initial.has(option.value);
      boxes.push(box);
      const label = el("label", { for: id }, textObject(option.text, ctx));
      const row = el("div", { class: "bk-choice" }, box, el("span", {}, label,
        option.description ? el("span", { class: "bk-description" }, textObject(option.description, ctx)) : null));
      group.append(row);
      if (dispatch) {
        box.addEventListener("change", () => {
          const picked = boxes.filter((b) => b.checked).map((b) => b.value);
          ctx.act(block, element, radio ? { value: picked[0] } : { values: picked }, box);
        });
      }
    }
    ctx.register(block, element, () => {
      const picked = boxes.filter((b) => b.checked).map((b) => b.value);
      return radio ? { value: picked[0] || null } : { values: picked };
    }, (choice) => {
      const wanted = new Set(choice ? (choice.values || [choice.value]) : []);
      boxes.forEach((b) => { b.checked = wanted.has(b.value); });
    });
    return group;
  }

  function picker(block, element, ctx, { dispatch, labelledBy, id }) {
    const type = { datepicker: "date", timepicker: "time" }[element.type];
    const node = el("input", {
      id, type, class: "bk-input", "aria-labelledby": labelledBy,
      "aria-label": labelledBy ? undefined : plainOf(element.placeholder) || "Pick a date",
    });
    node.value = element.initial_date || element.initial_time || "";
    if (dispatch) node.addEventListener("change", () => ctx.act(block, element, { value: node.value }, node));
    ctx.register(block, element, () => ({ value: node.value || null }),
      (choice) => { node.value = (choice && choice.value) || ""; });
    return node;
  }

  function textInput(block, element, ctx, { id, describedBy }) {
    const multiline = element.type === "plain_text_input" && element.multiline;
    const type = { email_text_input: "email", url_text_input: "url", number_input: "number" }[element.type] || "text";
    const node = multiline
      ? el("textarea", { id, class: "bk-input", rows: 4, "aria-describedby": describedBy })
      : el("input", { id, type, class: "bk-input", "aria-describedby": describedBy });
    if (element.placeholder) node.placeholder = plainOf(element.placeholder);
    if (element.max_length) node.maxLength = element.max_length;
    node.value = element.initial_value || "";
    ctx.register(block, element, () => ({ value: node.value }),
      (choice) => { node.value = (choice && choice.value) || ""; },
      { required: !block.optional, minLength: element.min_length || 0, node });
    return node;
  }

  function element(block, element, ctx, options) {
    const opts = { dispatch: true, ...options };
    switch (element.type) {
      case "button": return button(block, element, ctx);
      case "static_select": case "external_select": case "users_select":
      case "conversations_select": case "channels_select":
        return select(block, element, ctx, opts);
      case "overflow": return overflow(block, element, ctx);
      case "checkboxes": case "radio_buttons": return choices(block, element, ctx, opts);
      case "datepicker": case "timepicker": return picker(block, element, ctx, opts);
      case "image":
        return el("img", { class: "bk-thumb", src: element.image_url, alt: element.alt_text || "" });
      case "plain_text_input": case "email_text_input": case "url_text_input": case "number_input":
        return textInput(block, element, ctx, opts);
      default:
        return el("span", { class: "bk-unsupported", text: `[${element.type}]` });
    }
  }

  // -- blocks ---------------------------------------------------------------------------

  function section(block, ctx) {
    const node = el("div", { class: "bk-section" });
    const main = el("div", { class: "bk-section-text" });
    if (block.text) main.append(textObject(block.text, ctx));
    if (block.fields) {
      const fields = el("div", { class: "bk-fields" });
      for (const field of block.fields) fields.append(el("div", { class: "bk-field" }, textObject(field, ctx)));
      main.append(fields);
    }
    node.append(main);
    if (block.accessory) {
      const labelId = nextId("acc");
      main.id = labelId;
      node.append(el("div", { class: "bk-accessory" },
        element(block, block.accessory, ctx, { labelledBy: labelId })));
    }
    return node;
  }

  function input(block, ctx) {
    const id = nextId("input");
    const labelId = id + "-label";
    const hintId = block.hint ? id + "-hint" : undefined;
    const errorId = id + "-error";
    const error = ctx.errors && ctx.errors[block.block_id];
    const label = el("label", { id: labelId, for: id, class: "bk-label" }, plainOf(block.label),
      block.optional ? el("span", { class: "bk-optional", text: " (optional)" }) : null);
    const control = element(block, block.element, ctx, {
      id, labelledBy: labelId, describedBy: [hintId, error ? errorId : null].filter(Boolean).join(" ") || undefined,
      dispatch: Boolean(block.dispatch_action),
    });
    return el("div", { class: "bk-input-block" + (error ? " has-error" : "") },
      label, control,
      error ? el("div", { id: errorId, class: "bk-error", role: "alert", text: error }) : null,
      block.hint ? el("div", { id: hintId, class: "bk-hint", text: plainOf(block.hint) }) : null);
  }

  function richText(block, ctx) {
    const node = el("div", { class: "bk-rich" });
    const inlineOf = (items) => {
      const out = document.createDocumentFragment();
      for (const item of items || []) {
        let piece;
        if (item.type === "text") {
          piece = document.createTextNode(item.text);
          const style = item.style || {};
          if (style.code) piece = el("code", {}, piece);
          if (style.bold) piece = el("b", {}, piece);
          if (style.italic) piece = el("i", {}, piece);
          if (style.strike) piece = el("s", {}, piece);
        } else if (item.type === "link") {
          const href = safeUrl(item.url);
          piece = href ? el("a", { href, target: "_blank", rel: "noopener", text: item.text || item.url })
            : document.createTextNode(item.text || item.url);
        } else if (item.type === "user") piece = token("@" + item.user_id, ctx);
        else if (item.type === "channel") piece = token("#" + item.channel_id, ctx);
        else if (item.type === "emoji") piece = document.createTextNode(item.unicode ? String.fromCodePoint(...item.unicode.split("-").map((h) => parseInt(h, 16))) : `:${item.name}:`);
        else piece = document.createTextNode(item.text || "");
        out.append(piece);
      }
      return out;
    };
    for (const part of block.elements || []) {
      if (part.type === "rich_text_section") node.append(el("div", {}, inlineOf(part.elements)));
      else if (part.type === "rich_text_quote") node.append(el("blockquote", { class: "mrk-quote" }, inlineOf(part.elements)));
      else if (part.type === "rich_text_preformatted") node.append(el("pre", { class: "mrk-pre" }, inlineOf(part.elements)));
      else if (part.type === "rich_text_list") {
        const list = el(part.style === "ordered" ? "ol" : "ul", { class: "bk-list" });
        for (const item of part.elements || []) list.append(el("li", {}, inlineOf(item.elements)));
        node.append(list);
      }
    }
    return node;
  }

  function block(block, ctx) {
    switch (block.type) {
      case "section": return section(block, ctx);
      case "divider": return el("hr", { class: "bk-divider" });
      case "header": return el("h3", { class: "bk-header", text: plainOf(block.text) });
      case "context": {
        const node = el("div", { class: "bk-context" });
        for (const part of block.elements || []) {
          if (part.type === "image") node.append(el("img", { src: part.image_url, alt: part.alt_text || "" }));
          else node.append(el("span", {}, textObject(part, ctx)));
        }
        return node;
      }
      case "image":
        return el("figure", { class: "bk-image" },
          block.title ? el("figcaption", { text: plainOf(block.title) }) : null,
          el("img", { src: block.image_url, alt: block.alt_text || "" }));
      case "actions": {
        const node = el("div", { class: "bk-actions", role: "group" });
        for (const part of block.elements || []) node.append(element(block, part, ctx, {}));
        return node;
      }
      case "input": return input(block, ctx);
      case "rich_text": return richText(block, ctx);
      default:
        return el("div", { class: "bk-unsupported", text: `[${block.type} block]` });
    }
  }

  function render(blocks, ctx) {
    const out = document.createDocumentFragment();
    for (const item of blocks || []) out.append(el("div", { class: "bk-block" }, block(item, ctx)));
    return out;
  }

  window.BlockKit = { render, mrkdwn, formatDate, el, plain: plainOf, textObject };
})();
