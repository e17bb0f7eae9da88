// The sandbox page: Slack as the acting person sees it, and X as the customers see it.
// It polls /api/state and sends what the person does to /api/…; the server turns that
// into Slack's signed requests into the real bot, or into customers' tweets on X.
"use strict";

(function () {
  const { el, render, mrkdwn } = window.BlockKit;
  const $ = (selector) => document.querySelector(selector);
  const POLL_MS = 500;

  const ui = {
    me: localStorage.getItem("sandbox.me") || "U0LEAD",
    place: "CSUPPORT1", // a channel id, or "app" for the Servicekanal app (Home / Messages)
    appTab: "home",
    thread: null, // {channel, ts}
    xTab: "posts",
    replyTo: null, // the tweet a customer answers
    dmWith: null, // the customer whose DMs are open
    version: null,
    state: null,
    seen: JSON.parse(localStorage.getItem("sandbox.seen") || "{}"),
    dismissed: new Set(),
    modal: { key: null, errors: {}, readers: new Map() },
    editing: null, // ts of a message being edited
  };

  // -- talking to the server -------------------------------------------------------------

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: ui.me, ...body }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      toast(answer.error || `The sandbox said ${response.status}`);
      throw new Error(answer.error || String(response.status));
    }
    poll(true);
    return answer;
  }

  let polling = false;
  async function poll(now) {
    if (polling && !now) return;
    polling = true;
    try {
      const since = ui.version === null ? "" : `&since=${ui.version}`;
      const response = await fetch(`/api/state?user=${encodeURIComponent(ui.me)}${since}`);
      var answer = await response.json();
    } catch (error) {
      polling = false;
      return; // the sandbox stopped or restarts; keep trying quietly
    }
    try {
      if (answer.slack) {
        ui.state = answer;
        ui.version = answer.version;
        draw();
      }
    } finally {
      polling = false;
    }
  }

  function toast(text) {
    const node = el("div", { class: "toast", role: "status", text });
    $("#toasts").append(node);
    setTimeout(() => node.remove(), 6000);
  }

  // -- people and context -------------------------------------------------------------------

  function person(id) {
    return ui.state.slack.people.find((p) => p.id === id);
  }

  function channel(id) {
    return ui.state.slack.channels.find((c) => c.id === id);
  }

  function context(extra) {
    const me = person(ui.me) || {};
    return {
      person,
      channelName: (id) => (channel(id) || {}).name,
      tz: me.tz || "Europe/Berlin",
      now: () => new Date(),
      act: () => {},
      register: () => {},
      confirm,
      errors: {},
      ...extra,
    };
  }

  function initials(name) {
    return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("");
  }

  function hue(id) {
    let h = 0;
    for (const c of id) h = (h * 31 + c.charCodeAt(0)) % 360;
    return h;
  }

  function avatar(id, name, bot) {
    return el("div", {
      class: "avatar" + (bot ? " bot" : ""), "aria-hidden": "true",
      style: bot ? undefined : `background:hsl(${hue(id)} 45% 45%)`,
      text: bot ? "SK" : initials(name),
    });
  }

  function clock(ts) {
    const me = person(ui.me) || {};
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: me.tz || "Europe/Berlin", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).format(new Date(Number(ts) * 1000));
  }

  function plainText(message) {
    return (message.text || "").replace(/<([^|>]+)\|([^>]+)>/g, "$2").replace(/<[^>]+>/g, "")
      .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&").slice(0, 180);
  }

  // -- confirm dialogs (a button's `confirm`) ------------------------------------------------

  function confirm(spec) {
    return new Promise((resolve) => {
      const titleId = "confirm-title";
      const done = (answer) => { overlay.remove(); resolve(answer); };
      const dialog = el("div", { class: "dialog small", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId },
        el("header", {}, el("h2", { id: titleId, text: BlockKit.plain(spec.title) || "Are you sure?" })),
        el("div", { class: "dialog-body" }, BlockKit.textObject(spec.text, context())),
        el("footer", {},
          el("button", { type: "button", class: "bk-button", onclick: () => done(false), text: BlockKit.plain(spec.deny) || "Cancel" }),
          el("button", { type: "button", class: "bk-button " + (spec.style || "primary"), onclick: () => done(true), text: BlockKit.plain(spec.confirm) || "Yes" })));
      const overlay = el("div", { class: "overlay" }, dialog);
      document.body.append(overlay);
      dialog.querySelector("footer .bk-button:last-child").focus();
    });
  }

  // -- messages ------------------------------------------------------------------------------

  function messageActions(where, message) {
    if (message.ephemeral) return null;
    const bar = el("div", { class: "msg-actions" });
    if (!where.inThread && !channel(where.channel).is_im) {
      bar.append(el("button", {
        type: "button", class: "icon", "aria-label": "Reply in thread", title: "Reply in thread", text: "💬",
        onclick: () => openThread(where.channel, message.ts),
      }));
    }
    const menu = el("div", { class: "bk-menu", role: "menu", hidden: true });
    for (const shortcut of ui.state.shortcuts) {
      menu.append(el("button", {
        type: "button", role: "menuitem", text: shortcut.name,
        onclick: () => { menu.hidden = true; post("/api/shortcut", { channel: where.channel, ts: message.ts, callback_id: shortcut.callback_id }); },
      }));
    }
    if (message.user === ui.me) {
      menu.append(el("button", { type: "button", role: "menuitem", text: "Edit message", onclick: () => { menu.hidden = true; ui.editing = message.ts; draw(true); } }));
      menu.append(el("button", {
        type: "button", role: "menuitem", text: "Delete message",
        onclick: async () => {
          menu.hidden = true;
          const sure = await confirm({ title: { text: "Delete message" }, text: { type: "plain_text", text: "Are you sure you want to delete this message? This cannot be undone." }, confirm: { text: "Delete" }, style: "danger" });
          if (sure) post("/api/delete", { channel: where.channel, ts: message.ts });
        },
      }));
    }
    bar.append(el("span", { class: "menu-wrap" },
      el("button", { type: "button", class: "icon", "aria-label": "More actions", title: "More actions", "aria-haspopup": "menu", text: "⋮", onclick: () => { menu.hidden = !menu.hidden; } }),
      menu));
    return bar;
  }

  function act(where, message) {
    return (block, element, choice, node) => {
      if (node) node.classList.add("pending");
      post("/api/action", {
        channel: where.channel, ts: message.ts, ephemeral: Boolean(message.ephemeral),
        block_id: block.block_id, action_id: element.action_id, choice,
      }).then((answer) => {
        if (!answer.answered) toast("Servicekanal did not answer that (see the sandbox log).");
      }).catch(() => {}).finally(() => node && node.classList.remove("pending"));
    };
  }

  function messageBody(where, message) {
    const ctx = context({ act: act(where, message) });
    const body = el("div", { class: "msg-content" });
    if (ui.editing === message.ts) {
      const field = el("textarea", { class: "composer-input", "aria-label": "Edit message", rows: 2 });
      field.value = plainText({ text: message.text });
      const save = () => { ui.editing = null; post("/api/edit", { channel: where.channel, ts: message.ts, text: field.value }); };
      body.append(field, el("div", { class: "edit-buttons" },
        el("button", { type: "button", class: "bk-button", text: "Cancel", onclick: () => { ui.editing = null; draw(true); } }),
        el("button", { type: "button", class: "bk-button primary", text: "Save", onclick: save })));
      setTimeout(() => field.focus(), 0);
      return body;
    }
    if (message.blocks && message.blocks.length) body.append(render(message.blocks, ctx));
    else body.append(el("div", { class: "msg-text" }, mrkdwn(message.text, ctx)));
    for (const file of message.files || []) {
      body.append(el("figure", { class: "file" },
        el("figcaption", { text: file.title }),
        el("a", { href: file.url, target: "_blank" }, el("img", { src: file.url, alt: file.alt || file.title }))));
    }
    return body;
  }

  function messageNode(where, message) {
    const author = person(message.user) || { name: message.user, bot: message.bot };
    const bot = Boolean(message.bot || author.bot);
    const meta = el("div", { class: "msg-meta" },
      el("span", { class: "author", text: author.name }),
      bot ? el("span", { class: "app-badge", text: "APP" }) : null,
      el("time", { class: "msg-time", datetime: new Date(Number(message.ts) * 1000).toISOString(), text: clock(message.ts) }),
      message.edited && !bot ? el("span", { class: "edited", text: "(edited)" }) : null);
    const parts = [];
    if (message.ephemeral) {
      parts.push(el("div", { class: "ephemeral-note" },
        el("span", { text: "👁 Only visible to you" }),
        el("button", { type: "button", class: "link", text: "Dismiss", onclick: () => { ui.dismissed.add(message.ts); draw(true); } })));
    }
    const article = el("article", {
      class: "msg" + (message.ephemeral ? " ephemeral" : ""),
      "aria-label": `${author.name}: ${plainText(message)}`,
      "data-ts": message.ts,
    }, avatar(message.user, author.name, bot),
    el("div", { class: "msg-body" }, ...parts, meta, messageBody(where, message),
      !where.inThread && message.replies && message.replies.length
        ? el("button", {
          type: "button", class: "replies-link",
          text: `${message.replies.length} ${message.replies.length === 1 ? "reply" : "replies"}`,
          onclick: () => openThread(where.channel, message.ts),
        })
        : null),
    messageActions(where, message));
    return article;
  }

  // Messages keep their DOM node while they stay the same, so a select being used, a
  // focused button or the scroll position survive the next poll.
  function drawList(container, items, where, force) {
    const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
    const old = new Map([...container.children].map((n) => [n.dataset.key, n]));
    const wanted = [];
    for (const message of items) {
      const key = message.ts + (message.ephemeral ? "e" : "");
      const signature = JSON.stringify([message, ui.editing === message.ts, ui.me]);
      let node = old.get(key);
      if (!node || node.dataset.signature !== signature || force) {
        node = messageNode(where, message);
        node.dataset.key = key;
        node.dataset.signature = signature;
      }
      wanted.push(node);
    }
    if (wanted.length !== container.children.length || wanted.some((n, i) => container.children[i] !== n)) {
      container.replaceChildren(...wanted);
    }
    if (atBottom) container.scrollTop = container.scrollHeight;
  }

  function ephemeralsFor(channelId, threadTs) {
    return ui.state.slack.ephemerals
      .filter((e) => e.channel === channelId && (e.thread_ts || null) === (threadTs || null) && !ui.dismissed.has(e.ts))
      .map((e) => ({ ...e, ephemeral: true }));
  }

  function byTs(a, b) {
    return Number(a.ts) - Number(b.ts);
  }

  // -- the sidebar ---------------------------------------------------------------------------

  function drawSidebar() {
    const list = $("#channels");
    const items = [];
    for (const c of ui.state.slack.channels.filter((c) => !c.is_im)) {
      items.push(sidebarItem(c.id, `# ${c.name}`, c.messages.length));
    }
    list.replaceChildren(...items);
    const dm = ui.state.slack.channels.find((c) => c.is_im);
    $("#apps").replaceChildren(sidebarItem("app", "Servicekanal", dm ? dm.messages.length : 0));
    if (ui.place !== "app" && !channel(ui.place)) ui.place = "CSUPPORT1";
    const seenKey = ui.place === "app" ? "app" : ui.place;
    ui.seen[ui.me + seenKey] = ui.place === "app" ? (dm ? dm.messages.length : 0) : channel(ui.place).messages.length;
    localStorage.setItem("sandbox.seen", JSON.stringify(ui.seen));
  }

  function sidebarItem(id, label, count) {
    const unread = id !== ui.place ? count - (ui.seen[ui.me + id] || 0) : 0;
    return el("li", {}, el("button", {
      type: "button", class: "nav" + (id === ui.place ? " active" : "") + (unread > 0 ? " unread" : ""),
      "aria-current": id === ui.place ? "page" : undefined,
      onclick: () => { ui.place = id; ui.thread = null; if (id === "app" && ui.appTab === "home") post("/api/home", {}); draw(true); },
    }, el("span", { text: label }), unread > 0 ? el("span", { class: "badge", "aria-label": `${unread} new`, text: String(unread) }) : null));
  }

  // -- the main pane -------------------------------------------------------------------------

  function drawMain(force) {
    const header = $("#place-header");
    const list = $("#messages");
    const home = $("#home");
    if (ui.place === "app") {
      const dm = ui.state.slack.channels.find((c) => c.is_im);
      header.replaceChildren(el("h1", { text: "Servicekanal" }), tabs([["home", "Home"], ["messages", "Messages"]], ui.appTab, (tab) => {
        ui.appTab = tab; if (tab === "home") post("/api/home", {}); draw(true);
      }));
      if (ui.appTab === "home") {
        list.hidden = true; home.hidden = false;
        const view = ui.state.slack.home;
        home.replaceChildren(view ? render(view.blocks, context({ act: homeAct(view) })) : el("p", { class: "muted", text: "Opening the Home tab…" }));
        composer(null);
        return;
      }
      list.hidden = false; home.hidden = true;
      drawList(list, dm ? [...dm.messages].sort(byTs) : [], { channel: dm ? dm.id : "", inThread: false }, force);
      composer(null, "Sending messages to this app has been turned off.");
      return;
    }
    const c = channel(ui.place);
    list.hidden = false; home.hidden = true;
    header.replaceChildren(el("h1", { text: `# ${c.name}` }),
      el("span", { class: "muted", text: c.id === "CSUPPORT1" ? "Ticket cards: one per customer conversation, its thread below" : "Escalations land here" }));
    const items = [...c.messages, ...ephemeralsFor(c.id, null)].sort(byTs);
    drawList(list, items, { channel: c.id, inThread: false }, force);
    composer(c);
  }

  function homeAct(view) {
    return (block, element, choice) => post("/api/action", { view_id: view.id, block_id: block.block_id, action_id: element.action_id, choice });
  }

  function tabs(options, current, pick) {
    return el("div", { class: "tabs", role: "tablist" }, ...options.map(([key, label]) => el("button", {
      type: "button", role: "tab", "aria-selected": String(key === current), class: key === current ? "active" : "",
      text: label, onclick: () => pick(key),
    })));
  }

  function composer(c, disabled) {
    const form = $("#composer");
    const field = $("#composer-input");
    if (!c) {
      form.hidden = !disabled;
      field.disabled = true;
      field.placeholder = disabled || "";
      return;
    }
    form.hidden = false;
    field.disabled = false;
    field.placeholder = `Message #${c.name} — try /claim 1, /team list, /stats`;
    field.setAttribute("aria-label", `Message #${c.name}`);
  }

  function suggestions(field, box) {
    const value = field.value;
    if (!value.startsWith("/") || value.includes(" ")) { box.hidden = true; return; }
    const found = ui.state.commands.filter((c) => c.command.startsWith(value.toLowerCase()));
    box.hidden = !found.length;
    box.replaceChildren(...found.map((c) => el("button", {
      type: "button", class: "suggestion",
      onclick: () => { field.value = c.command + " "; box.hidden = true; field.focus(); },
    }, el("b", { text: c.command }), el("span", { text: " " + c.usage }), el("span", { class: "muted", text: " — " + c.description }))));
  }

  async function send(field, channelId, threadTs) {
    const text = field.value.trim();
    if (!text) return;
    field.value = "";
    if (text.startsWith("/")) await post("/api/command", { channel: channelId, thread_ts: threadTs, text });
    else await post("/api/message", { channel: channelId, thread_ts: threadTs, text });
  }

  function wireComposer(field, box, target) {
    field.addEventListener("input", () => suggestions(field, box));
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        box.hidden = true;
        const [channelId, threadTs] = target();
        send(field, channelId, threadTs).catch(() => {});
      }
    });
  }

  // -- the thread pane -----------------------------------------------------------------------

  function openThread(channelId, ts) {
    ui.thread = { channel: channelId, ts };
    draw(true);
    setTimeout(() => $("#thread-input").focus(), 0);
  }

  function drawThread(force) {
    const pane = $("#thread");
    if (!ui.thread) { pane.hidden = true; return; }
    const c = channel(ui.thread.channel);
    const parent = c && c.messages.find((m) => m.ts === ui.thread.ts);
    if (!parent) { ui.thread = null; pane.hidden = true; return; }
    pane.hidden = false;
    $("#thread-title").textContent = `Thread · #${c.name}`;
    const items = [parent, ...parent.replies, ...ephemeralsFor(c.id, parent.ts)].sort(byTs);
    drawList($("#thread-messages"), items, { channel: c.id, inThread: true }, force);
  }

  // -- the modal -----------------------------------------------------------------------------

  function drawModal() {
    const view = ui.state.slack.modal;
    const host = $("#modal-host");
    if (!view) {
      host.replaceChildren();
      ui.modal = { key: null, errors: {}, readers: new Map() };
      return;
    }
    const key = view.id + ":" + view.hash;
    if (ui.modal.key === key && !ui.modal.dirty) return;
    // Slack keeps what was typed into inputs whose block and action ids stay the same.
    const kept = new Map();
    for (const [id, reader] of ui.modal.readers) kept.set(id, reader.read());
    const sameView = ui.modal.key && ui.modal.key.split(":")[0] === view.id;
    const errors = sameView && ui.modal.key === key ? ui.modal.errors : {};
    const readers = new Map();
    const titleId = "modal-title";
    const ctx = context({
      errors,
      register: (block, element, read, write, rules) => {
        const id = block.block_id + "/" + element.action_id;
        readers.set(id, { block, element, read, write, rules });
        if (sameView && kept.has(id)) write(kept.get(id));
      },
      act: (block, element, choice, node) => {
        if (node) node.classList.add("pending");
        post("/api/action", { view_id: view.id, block_id: block.block_id, action_id: element.action_id, choice, values: values(readers) })
          .catch(() => {}).finally(() => node && node.classList.remove("pending"));
      },
    });
    const general = errors[""];
    const submit = view.submit ? el("button", { type: "submit", class: "bk-button primary", text: BlockKit.plain(view.submit) }) : null;
    const form = el("form", { class: "dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, novalidate: true },
      el("header", {}, el("h2", { id: titleId, text: BlockKit.plain(view.title) }),
        el("button", { type: "button", class: "icon close", "aria-label": "Close", text: "✕", onclick: () => post("/api/close", { view_id: view.id }) })),
      el("div", { class: "dialog-body" }, general ? el("div", { class: "bk-error", role: "alert", text: general }) : null, render(view.blocks, ctx)),
      el("footer", {},
        el("button", { type: "button", class: "bk-button", text: BlockKit.plain(view.close) || "Cancel", onclick: () => post("/api/close", { view_id: view.id }) }),
        submit));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const missing = {};
      for (const [, reader] of readers) {
        const rules = reader.rules || {};
        const value = reader.read().value;
        if (rules.required && !String(value || "").trim()) missing[reader.block.block_id] = "Please complete this required field.";
        else if (rules.minLength && String(value || "").length < rules.minLength) missing[reader.block.block_id] = `Please enter at least ${rules.minLength} characters.`;
      }
      if (Object.keys(missing).length) { ui.modal.errors = missing; ui.modal.dirty = true; drawModal(); return; }
      submit.disabled = true;
      try {
        const answer = await post("/api/submit", { view_id: view.id, values: values(readers) });
        if (!answer.closed && answer.errors && Object.keys(answer.errors).length) {
          ui.modal.errors = answer.errors; ui.modal.dirty = true; drawModal();
        }
      } catch (error) {
        // the toast said why
      } finally {
        submit.disabled = false;
      }
    });
    host.replaceChildren(el("div", { class: "overlay" }, form));
    ui.modal = { key, errors, readers, dirty: false };
    const first = form.querySelector(".dialog-body textarea, .dialog-body input, .dialog-body select");
    if (first && !sameView) first.focus();
  }

  function values(readers) {
    const out = {};
    for (const [, reader] of readers) {
      (out[reader.block.block_id] = out[reader.block.block_id] || {})[reader.element.action_id] = reader.read();
    }
    return out;
  }

  // -- X, as the customers see it ------------------------------------------------------------

  function xUser(id) {
    return ui.state.x.users[id] || { username: id, name: id };
  }

  function xTime(iso) {
    const when = new Date(iso);
    const seconds = (Date.now() - when) / 1000;
    if (seconds < 60) return `${Math.max(0, Math.floor(seconds))}s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
    return when.toLocaleDateString("en-GB", { day: "numeric", month: "short" });
  }

  function xText(text) {
    const out = document.createDocumentFragment();
    let last = 0;
    const pattern = /(@\w{1,15}|#[\wäöüÄÖÜß]+|https?:\/\/\S+)/g;
    for (let match; (match = pattern.exec(text));) {
      if (match.index > last) out.append(text.slice(last, match.index));
      out.append(el("span", { class: "x-link", text: match[0] }));
      last = pattern.lastIndex;
    }
    out.append(text.slice(last));
    return out;
  }

  function tweetNode(tweet) {
    const author = xUser(tweet.author_id);
    const brand = tweet.author_id === ui.state.x.brand_id;
    return el("article", { class: "tweet" + (brand ? " brand" : ""), "aria-label": `@${author.username}: ${tweet.text}` },
      el("div", { class: "x-avatar" + (brand ? " brand" : ""), "aria-hidden": "true", style: brand ? undefined : `background:hsl(${hue(author.username)} 50% 45%)`, text: brand ? "T" : initials(author.name || author.username) }),
      el("div", { class: "tweet-body" },
        el("div", { class: "tweet-meta" },
          el("b", { text: author.name }), author.verified ? el("span", { class: "x-verified", title: "verified", text: "✔" }) : null,
          el("span", { class: "muted", text: ` @${author.username} · ${xTime(tweet.created_at)}` })),
        el("div", { class: "tweet-text" }, xText(tweet.text)),
        el("div", { class: "tweet-actions" },
          el("button", {
            type: "button", class: "link", text: "Reply",
            "aria-label": `Reply to @${author.username}'s post`,
            onclick: () => {
              const customer = brand ? conversationCustomer(tweet) : author;
              ui.replyTo = tweet.id;
              $("#x-handle").value = customer.username;
              drawX();
              $("#x-text").focus();
            },
          }))));
  }

  function conversationCustomer(tweet) {
    const root = ui.state.x.tweets.find((t) => t.id === tweet.conversation_id) || tweet;
    return xUser(root.author_id);
  }

  function drawX() {
    const x = ui.state.x;
    $("#x-customers").replaceChildren(...Object.values(x.users).filter((u) => u.id !== x.brand_id)
      .map((u) => el("option", { value: u.username, text: u.name })));
    $("#x-tabs").replaceChildren(tabs([["posts", "Posts"], ["dms", "Messages"]], ui.xTab, (tab) => { ui.xTab = tab; drawX(); }));
    const reply = $("#x-replying");
    const replyingTo = ui.replyTo && x.tweets.find((t) => t.id === ui.replyTo);
    reply.replaceChildren(replyingTo
      ? el("span", {}, `Replying to @${xUser(replyingTo.author_id).username} `, el("button", { type: "button", class: "link", text: "(new post instead)", onclick: () => { ui.replyTo = null; drawX(); } }))
      : el("span", { text: `Mentions @${ui.state.brand} (added if missing)` }));
    const feed = $("#x-feed");
    if (ui.xTab === "posts") {
      $("#x-compose").hidden = false;
      $("#x-dm-compose").hidden = true;
      // Conversations, the most recently active first; each reads top to bottom.
      const conversations = new Map();
      for (const tweet of x.tweets) {
        if (!conversations.has(tweet.conversation_id)) conversations.set(tweet.conversation_id, []);
        conversations.get(tweet.conversation_id).push(tweet);
      }
      const newest = (tweets) => BigInt(tweets[tweets.length - 1].id);
      const ordered = [...conversations.values()].sort((a, b) => (newest(b) > newest(a) ? 1 : -1));
      feed.replaceChildren(...(ordered.length ? ordered.slice(0, 80).map((tweets) => el("div", { class: "conversation" }, ...tweets.map(tweetNode)))
        : [el("p", { class: "muted empty", text: "No posts yet. Tweet as a customer above; the bot reads X every second." })]));
    } else {
      $("#x-compose").hidden = true;
      $("#x-dm-compose").hidden = false;
      const partners = new Map();
      for (const dm of x.dms) {
        const other = dm.sender_id === x.brand_id ? dm.recipient_id : dm.sender_id;
        if (!partners.has(other)) partners.set(other, []);
        partners.get(other).push(dm);
      }
      const chosen = ui.dmWith && partners.has(ui.dmWith) ? ui.dmWith : null;
      const list = [...partners.entries()].map(([id, dms]) => el("button", {
        type: "button", class: "dm-partner" + (id === chosen ? " active" : ""),
        onclick: () => { ui.dmWith = id; $("#x-handle").value = xUser(id).username; drawX(); },
      }, el("b", { text: xUser(id).name }), el("span", { class: "muted", text: ` @${xUser(id).username} · ${dms.length}` })));
      const bubbles = chosen ? partners.get(chosen).map((dm) => el("div", {
        class: "bubble" + (dm.sender_id === x.brand_id ? " brand" : ""),
        "aria-label": `${dm.sender_id === x.brand_id ? "@" + ui.state.brand : "@" + xUser(dm.sender_id).username}: ${dm.text}`,
      }, el("div", { text: dm.text }), el("div", { class: "muted small", text: xTime(dm.created_at) }))) : [];
      feed.replaceChildren(el("div", { class: "dm-partners" }, ...(list.length ? list : [el("p", { class: "muted empty", text: "No direct messages yet. Send one as a customer below." })])),
        chosen ? el("div", { class: "dm-thread", role: "log", "aria-label": `Messages with @${xUser(chosen).username}` }, ...bubbles) : null);
    }
  }

  // -- the acting person ---------------------------------------------------------------------

  function drawActing() {
    const select = $("#acting");
    const people = ui.state.slack.people.filter((p) => !p.bot);
    const options = people.map((p) => {
      const role = p.role ? (p.role === "lead" && p.id === "U0LEAD" ? "lead (you)" : p.role) : "not on the team";
      return [p.id, `${p.name} — ${role}`];
    });
    const signature = JSON.stringify(options);
    if (select.dataset.signature !== signature) {
      select.replaceChildren(...options.map(([id, label]) => el("option", { value: id, text: label })));
      select.dataset.signature = signature;
    }
    select.value = ui.me;
  }

  // -- drawing everything --------------------------------------------------------------------

  function draw(force) {
    if (!ui.state) return;
    drawActing();
    drawSidebar();
    drawMain(force);
    drawThread(force);
    drawModal();
    drawX();
  }

  function start() {
    $("#acting").addEventListener("change", (event) => {
      ui.me = event.target.value;
      localStorage.setItem("sandbox.me", ui.me);
      ui.version = null;
      ui.editing = null;
      poll(true);
    });
    $("#storm").addEventListener("click", async () => {
      const answer = await post("/api/storm", {});
      toast(`A storm: ${answer.tweets} customers tweet at once. Watch the cards arrive at Slack's pace.`);
    });
    wireComposer($("#composer-input"), $("#suggestions"), () => [ui.place, null]);
    wireComposer($("#thread-input"), $("#thread-suggestions"), () => [ui.thread.channel, ui.thread.ts]);
    $("#thread-close").addEventListener("click", () => { ui.thread = null; draw(true); });
    $("#x-compose").addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = $("#x-text").value;
      await post("/api/tweet", { handle: $("#x-handle").value, text, reply_to: ui.replyTo });
      $("#x-text").value = "";
      ui.replyTo = null;
      ui.xTab = "posts";
      drawX();
    });
    $("#x-dm-compose").addEventListener("submit", async (event) => {
      event.preventDefault();
      await post("/api/dm", { handle: $("#x-handle").value, text: $("#x-dm-text").value });
      $("#x-dm-text").value = "";
      const customer = Object.values(ui.state.x.users).find((u) => u.username.toLowerCase() === $("#x-handle").value.toLowerCase());
      if (customer) ui.dmWith = customer.id;
    });
    $("#x-text").addEventListener("input", () => {
      const left = 280 - [...$("#x-text").value].length;
      $("#x-count").textContent = String(left);
      $("#x-count").classList.toggle("over", left < 0);
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && ui.state && ui.state.slack.modal && !document.querySelector(".dialog.small")) {
        post("/api/close", { view_id: ui.state.slack.modal.id });
      }
    });
    poll(true);
    setInterval(() => poll(false), POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
