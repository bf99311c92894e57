/*
 * JDM chat widget: an accessible chat box for a clinic web page. No build
 * step, no framework, no dependencies. Embed with one tag:
 *
 *   <script src="jdm-chat.js" defer
 *     data-server="https://assistant.clinic.example"  (Rasa server; default http://localhost:5005)
 *     data-title="Questions about JDM"                 (panel heading)
 *     data-color="#0b5cad"                             (header, launcher, send button)
 *     data-user-color="#0b5cad"                        (your own messages; default data-color)
 *     data-greeting="Hello! ..."                       (first message, shown locally)
 *     data-launcher-text="Chat with us"
 *     data-note="General information only ..."     (line under the heading)
 *     data-css="/path/jdm-chat.css"></script>      (default: next to this script)
 *
 * Text colours on data-color/data-user-color are chosen automatically (black
 * or white, whichever contrasts more), so any colour keeps text readable.
 *
 * Transport: Rasa's REST channel, POST {server}/webhooks/rest/webhook with
 * {"sender", "message"}. We chose it over socket.io because each message is
 * one stateless HTTP request: it works with several Rasa servers behind an
 * ordinary load balancer (no sticky sessions or websocket upgrades), and it
 * needs no client library (socket.io-client alone is bigger than this whole
 * widget). The conversation lives in Rasa's tracker store under the sender
 * id, so continuing after a reload only needs the same id.
 *
 * Privacy: the sender id is a random UUID and the transcript is kept in
 * sessionStorage only, so both vanish when the tab is closed. "Delete" in the
 * header asks for confirmation, then deletes the conversation on the server
 * (POST {server}/webhooks/rest/forget {"sender"}) and clears the widget's
 * copy. When the bot itself deletes it (the parent typed "delete my
 * conversation" and confirmed), its reply carries the custom payload
 * {"forget_conversation": true}, and the widget clears its copy too.
 *
 * Safety: every text from the user and the server is inserted as DOM text.
 * Bot messages may use a tiny markdown subset: **bold**, line breaks and
 * [label](url) links with https:, tel: or mailto: only.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || document.querySelector(".jdmc-root")) return; // embedded twice: keep the first

  const KEY = "jdm-chat:";
  const DEFAULT_SERVER = "http://localhost:5005";
  const TIMEOUT_MS = 30000;
  const MAX_KEPT = 200; // messages kept in sessionStorage
  const LINK_PROTOCOLS = ["https:", "tel:", "mailto:"];
  const TOKENS = /\*\*(.+?)\*\*|\[([^\]\n]+)\]\(([^()\s]+)\)/g;
  const data = script.dataset;

  /* ---------- settings ---------- */

  // ?server=... is for developers and tests, so it is honoured only on a
  // page served from this machine: a link to the clinic's real page must not
  // be able to send a family's messages to another server.
  function serverUrl() {
    const local = /^(localhost|127\.0\.0\.1|\[::1\])$/.test(location.hostname);
    const candidates = [local && new URLSearchParams(location.search).get("server"), data.server];
    for (const raw of candidates) {
      if (!raw) continue;
      try {
        const url = new URL(raw, location.href);
        if (url.protocol === "https:" || url.protocol === "http:") return url.href.replace(/\/+$/, "");
      } catch (e) { /* fall through to the next candidate */ }
      console.warn("jdm-chat: ignoring server URL", raw);
    }
    return DEFAULT_SERVER;
  }

  function parseHex(value) {
    const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec((value || "").trim());
    if (!m) return null;
    const hex = m[1].length === 3 ? m[1].replace(/./g, "$&$&") : m[1];
    return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  }

  // WCAG relative luminance and contrast ratio.
  function luminance(rgb) {
    const [r, g, b] = rgb.map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  const contrast = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

  // A colour plus the text colour that reads best on it (always >= 4.58:1).
  function colourPair(value, fallback) {
    const rgb = parseHex(value) || parseHex(fallback);
    if (value && !parseHex(value)) console.warn("jdm-chat: colour must be #rgb or #rrggbb:", value);
    const lum = luminance(rgb);
    const text = contrast(lum, 1) >= contrast(lum, 0) ? "#ffffff" : "#000000";
    const hex = "#" + rgb.map((v) => v.toString(16).padStart(2, "0")).join("");
    return { bg: hex, text, onWhite: contrast(lum, 1) >= 4.5 ? hex : "#1a1a1a" };
  }

  const settings = {
    server: serverUrl(),
    title: data.title || "Questions about JDM",
    launcher: data.launcherText || "Chat with us",
    greeting: data.greeting || "",
    note: data.note || "General information only, not medical advice. In an emergency, call your local emergency number.",
    brand: colourPair(data.color, "#0b5cad"),
  };
  settings.user = data.userColor ? colourPair(data.userColor, "#0b5cad") : settings.brand;

  /* ---------- storage (sessionStorage, or memory when it is blocked) ---------- */

  const store = (() => {
    try {
      sessionStorage.setItem(KEY + "probe", "1");
      sessionStorage.removeItem(KEY + "probe");
      return sessionStorage;
    } catch (e) {
      const map = new Map();
      return { getItem: (k) => (map.has(k) ? map.get(k) : null), setItem: (k, v) => map.set(k, String(v)), removeItem: (k) => map.delete(k) };
    }
  })();

  function load(name, fallback) {
    try {
      const raw = store.getItem(KEY + name);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) {
      return fallback;
    }
  }

  function save(name, value) {
    try {
      store.setItem(KEY + name, JSON.stringify(value));
    } catch (e) { /* storage full: the chat still works, it just won't survive a reload */ }
  }

  function randomId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16)); // non-secure (http) pages lack randomUUID
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const h = Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // Only well-formed entries survive, so a tampered or old transcript can't break the widget.
  function cleanButtons(buttons) {
    if (!Array.isArray(buttons)) return [];
    return buttons
      .filter((b) => b && typeof b.title === "string" && b.title.trim())
      .map((b) => ({ title: b.title, payload: typeof b.payload === "string" && b.payload ? b.payload : b.title }));
  }

  function cleanEntry(e) {
    if (!e || (e.who !== "user" && e.who !== "bot") || typeof e.text !== "string") return null;
    return { who: e.who, text: e.text, buttons: e.who === "bot" ? cleanButtons(e.buttons) : [] };
  }

  let sender = load("sender", null);
  if (typeof sender !== "string" || !sender) {
    sender = randomId();
    save("sender", sender);
  }
  const saved = load("transcript", []);
  let transcript = (Array.isArray(saved) ? saved : []).map(cleanEntry).filter(Boolean);

  /* ---------- DOM helpers ---------- */

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }

  const srOnly = (text) => el("span", { class: "jdmc-sr", text });

  function icon(path) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "jdmc-icon");
    const p = document.createElementNS(ns, "path");
    p.setAttribute("d", path);
    svg.append(p);
    return svg;
  }

  function link(label, href) {
    let url;
    try {
      url = new URL(href);
    } catch (e) {
      return null;
    }
    if (!LINK_PROTOCOLS.includes(url.protocol)) return null;
    const a = el("a", { href: url.href, text: label });
    if (url.protocol === "https:") {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.append(srOnly(" (opens in a new tab)"));
    }
    return a;
  }

  // The markdown subset. Anything that is not bold or an allowed link stays
  // literal text; line breaks show through CSS (white-space: pre-wrap).
  function richText(text) {
    const out = document.createDocumentFragment();
    let last = 0;
    for (const m of text.matchAll(TOKENS)) {
      out.append(text.slice(last, m.index));
      if (m[1] !== undefined) out.append(el("strong", { text: m[1] }));
      else out.append(link(m[2], m[3]) || m[0]);
      last = m.index + m[0].length;
    }
    out.append(text.slice(last));
    return out;
  }

  /* ---------- build the widget ---------- */

  const root = el("div", { class: "jdmc-root" });
  root.hidden = true; // until the stylesheet has loaded
  const s = root.style;
  s.setProperty("--jdmc-brand", settings.brand.bg);
  s.setProperty("--jdmc-on-brand", settings.brand.text);
  s.setProperty("--jdmc-brand-ink", settings.brand.onWhite);
  s.setProperty("--jdmc-user", settings.user.bg);
  s.setProperty("--jdmc-on-user", settings.user.text);

  const ids = { panel: "jdmc-panel", title: "jdmc-title", note: "jdmc-note", input: "jdmc-input" };
  const launcher = el("button", { type: "button", class: "jdmc-launcher", "aria-expanded": "false", "aria-controls": ids.panel },
    icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"),
    el("span", { text: settings.launcher }));
  const restart = el("button", { type: "button", class: "jdmc-restart", text: "Start over" });
  const forgetButton = el("button", { type: "button", class: "jdmc-restart" }, "Delete", srOnly(" this conversation"));
  const closeButton = el("button", { type: "button", class: "jdmc-close", "aria-label": "Close chat" },
    icon("M6 6l12 12M18 6L6 18"));
  const log = el("div", { class: "jdmc-log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
  const status = el("div", { class: "jdmc-status", role: "status" });
  const alertBox = el("div", { class: "jdmc-alert", role: "alert" });
  const confirmText = el("p", { id: "jdmc-confirm-text" });
  const confirmYes = el("button", { type: "button", class: "jdmc-reply", text: "Yes, delete it" });
  const confirmNo = el("button", { type: "button", class: "jdmc-reply", text: "No, keep it" });
  const confirmBox = el("div", { class: "jdmc-confirm", role: "alertdialog", "aria-labelledby": confirmText.id },
    confirmText, el("div", { class: "jdmc-replies" }, confirmYes, confirmNo));
  confirmBox.hidden = true;
  const input = el("input", { id: ids.input, type: "text", autocomplete: "off", maxlength: "1000", placeholder: "Type your question…" });
  const form = el("form", { class: "jdmc-form" },
    el("label", { class: "jdmc-sr", for: ids.input, text: "Your question" }),
    input,
    el("button", { type: "submit", class: "jdmc-send", text: "Send" }));
  const panel = el("section", { id: ids.panel, class: "jdmc-panel", role: "dialog", "aria-labelledby": ids.title, "aria-describedby": ids.note },
    el("header", { class: "jdmc-header" },
      el("h2", { id: ids.title, class: "jdmc-title", text: settings.title }),
      restart, forgetButton, closeButton),
    el("p", { id: ids.note, class: "jdmc-note", text: settings.note }),
    log, status, alertBox, confirmBox, form);
  panel.hidden = true;
  root.append(launcher, panel);

  /* ---------- messages ---------- */

  function removeQuickReplies() {
    for (const group of log.querySelectorAll(".jdmc-replies")) group.remove();
  }

  function quickReplies(buttons) {
    const group = el("div", { class: "jdmc-replies", role: "group", "aria-label": "Suggested replies" });
    for (const b of buttons) {
      const button = el("button", { type: "button", class: "jdmc-reply", text: b.title });
      button.addEventListener("click", () => {
        ask(b.payload, b.title);
        input.focus(); // the button is gone; keep focus in the chat
      });
      group.append(button);
    }
    return group;
  }

  function render(entry, withButtons) {
    const bubble = el("div", { class: `jdmc-msg jdmc-${entry.who}` },
      srOnly(entry.who === "user" ? "You: " : "Assistant: "),
      el("span", { class: "jdmc-text" }, entry.who === "bot" ? richText(entry.text) : entry.text));
    log.append(bubble);
    if (withButtons && entry.buttons && entry.buttons.length) log.append(quickReplies(entry.buttons));
    log.scrollTop = log.scrollHeight;
  }

  function add(entry) {
    transcript.push(entry);
    transcript = transcript.slice(-MAX_KEPT);
    save("transcript", transcript);
    render(entry, true);
  }

  function renderAll() {
    log.replaceChildren();
    if (settings.greeting) render({ who: "bot", text: settings.greeting }, false);
    transcript.forEach((entry, i) => render(entry, i === transcript.length - 1));
  }

  /* ---------- talking to Rasa ---------- */

  let queue = Promise.resolve();
  let waiting = 0;
  // Messages to send again when the user presses Retry. Each keeps its id, so a message whose
  // answer was stored but never arrived is answered from the store, not stored twice.
  let failed = [];

  function setWaiting(delta) {
    waiting += delta;
    if (waiting > 0 && !status.querySelector(".jdmc-dots")) {
      status.replaceChildren(el("span", { class: "jdmc-dots", "aria-hidden": "true" }, el("span"), el("span"), el("span")),
        el("span", { class: "jdmc-typing-text", text: "The assistant is typing…" }));
    } else if (waiting === 0) {
      status.replaceChildren();
    }
  }

  async function post({ message, id }) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(`${settings.server}/webhooks/rest/webhook`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender, message, message_id: id }),
        credentials: "omit",
        signal: controller.signal,
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const replies = await response.json();
      if (!Array.isArray(replies)) throw new Error("unexpected reply");
      return replies;
    } finally {
      clearTimeout(timer);
    }
  }

  async function deliver(outgoing) {
    const conversation = sender; // "Start over" while waiting: drop the old conversation's replies
    setWaiting(1);
    try {
      const replies = await post(outgoing);
      if (conversation !== sender) return;
      // The bot deleted the conversation: clear our copy too, and show its "done" without keeping it.
      const forgotten = replies.some((r) => r && r.custom && r.custom.forget_conversation === true);
      if (forgotten) newConversation();
      for (const reply of replies) {
        const text = reply && typeof reply.text === "string" ? reply.text : "";
        const buttons = cleanButtons(reply && reply.buttons);
        if (forgotten && text) render({ who: "bot", text }, false);
        else if (text || buttons.length) add({ who: "bot", text, buttons });
      }
    } catch (error) {
      console.warn("jdm-chat: message not delivered:", error);
      if (conversation !== sender) return;
      failed.push(outgoing);
      showError();
    } finally {
      setWaiting(-1);
    }
  }

  function showError() {
    if (alertBox.firstChild) return;
    const retry = el("button", { type: "button", class: "jdmc-retry", text: "Retry" });
    retry.addEventListener("click", () => {
      const again = failed;
      failed = [];
      alertBox.replaceChildren();
      input.focus();
      for (const outgoing of again) queue = queue.then(() => deliver(outgoing));
    });
    alertBox.append(el("p", {
      text: "Sorry, the assistant can't be reached right now. Please check your connection and press Retry. " +
        "If your child is very unwell, call your care team or your local emergency number.",
    }), retry);
  }

  // `message` goes to Rasa; `shown` is what the user sees they said
  // (a quick reply shows its title and sends its payload).
  function ask(message, shown) {
    removeQuickReplies();
    add({ who: "user", text: shown, buttons: [] });
    const outgoing = { message, id: randomId() };
    queue = queue.then(() => deliver(outgoing));
  }

  /* ---------- opening, closing, keys ---------- */

  function setOpen(open, moveFocus) {
    panel.hidden = !open;
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", String(open));
    save("open", open);
    if (open) log.scrollTop = log.scrollHeight;
    if (moveFocus) (open ? input : launcher).focus();
  }

  launcher.addEventListener("click", () => setOpen(true, true));
  closeButton.addEventListener("click", () => setOpen(false, true));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !confirmBox.hidden) {
      event.preventDefault();
      hideConfirm();
      forgetButton.focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false, true);
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    ask(text, text);
  });
  // A new, empty conversation: new id, no stored transcript.
  function newConversation() {
    transcript = [];
    failed = [];
    sender = randomId();
    save("sender", sender);
    store.removeItem(KEY + "transcript");
    alertBox.replaceChildren();
    hideConfirm();
    renderAll();
  }

  restart.addEventListener("click", () => {
    newConversation();
    input.focus();
  });

  /* ---------- deleting the conversation ---------- */

  function showConfirm(text) {
    confirmText.textContent = text;
    confirmYes.disabled = false;
    confirmBox.hidden = false;
    confirmNo.focus(); // the safe choice has focus
  }
  function hideConfirm() {
    confirmBox.hidden = true;
  }
  forgetButton.addEventListener("click", () =>
    showConfirm("Delete this conversation? Everything you wrote here will be removed from the assistant's records. This can't be undone."));
  confirmNo.addEventListener("click", () => {
    hideConfirm();
    forgetButton.focus();
  });
  confirmYes.addEventListener("click", async () => {
    confirmYes.disabled = true;
    try {
      const response = await fetch(`${settings.server}/webhooks/rest/forget`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender }),
        credentials: "omit",
      });
      const answer = response.ok ? await response.json() : null;
      if (!answer || answer.deleted !== true) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      console.warn("jdm-chat: conversation not deleted:", error);
      showConfirm("Sorry, the conversation could not be deleted. Please try again.");
      return;
    }
    hideConfirm();
    newConversation();
    status.replaceChildren(el("span", { text: "The conversation has been deleted." }));
    input.focus();
  });

  /* ---------- start ---------- */

  function start() {
    renderAll();
    const css = el("link", { rel: "stylesheet", href: data.css || new URL("jdm-chat.css", script.src).href });
    css.addEventListener("load", () => { root.hidden = false; });
    css.addEventListener("error", () => { root.hidden = false; });
    document.head.append(css);
    document.body.append(root);
    if (load("open", false) === true) setOpen(true, false);
  }
  // Without `defer` in <head> the body does not exist yet.
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
