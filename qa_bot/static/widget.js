/*! qa-bot chat widget. One line on any page:
 *    <script src="https://HOST/widget.js" data-lang="ar|en" data-title="…" async></script>
 *  data-lang: labels in Arabic (right-to-left) or English; default: the page's <html lang>.
 *  data-title: the panel's title. data-mode="page" (or widget.js?mode=page): always open, full size.
 *  data-article: answer from this article only (its id, as listed by GET /api/articles); on an
 *  article's own page this keeps the conversation about that article.
 *  Everything lives in a shadow root (styles in, host styles out). Text from the server or the
 *  user is only ever inserted with textContent / createTextNode, never parsed as HTML.
 */
(function () {
  "use strict";

  var MAX_HISTORY = 20; // earlier turns sent with a question (user + assistant messages)
  var TIMEOUT_MS = 65000;

  var script = document.currentScript || findScript();
  if (!script || script.getAttribute("data-qa-bot") === "loaded") return;
  script.setAttribute("data-qa-bot", "loaded");

  function findScript() {
    var all = document.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) {
      var src = all[i].src || "";
      if (/\/widget\.js(?:[?#].*)?$/.test(src) && all[i].getAttribute("data-qa-bot") !== "loaded") return all[i];
    }
    return null;
  }

  var srcUrl = new URL(script.src, document.baseURI);
  // The API lives where the script came from (keeping a path prefix such as /qa/widget.js).
  var BASE = srcUrl.origin + srcUrl.pathname.replace(/\/widget\.js$/, "");
  var pageMode = (script.getAttribute("data-mode") || srcUrl.searchParams.get("mode") || "") === "page";
  var langAttr = (script.getAttribute("data-lang") || document.documentElement.lang || "en").toLowerCase();
  var LANG = langAttr.slice(0, 2) === "ar" ? "ar" : "en";

  var LABELS = {
    en: {
      title: "Ask the article",
      launcher: "Ask the article",
      open: "Open the chat",
      close: "Close the chat",
      placeholder: "Ask in English or Arabic…",
      send: "Send",
      thinking: "Looking in the article…",
      hint: "Answers quote the article and cite their sources.",
      source: "Source",
      translation: "English translation",
      showSource: "Show source",
      original: "Original article",
      forbidden:
        "This site is not allowed to use this chat (ask the site owner to add it to QA_BOT_ALLOWED_ORIGINS).",
      tooMany: function (s) { return "Too many questions, retry in " + s + " s."; },
      tooManyLater: "Too many questions, retry in a minute.",
      unavailable: function (s) { return "The chat is briefly unavailable, retry in " + s + " s."; },
      degraded: "Found by keyword search only: the full search is briefly unavailable.",
      timeout: "No answer in time. Please try again.",
      offline: "Cannot reach the chat server. Please try again later.",
      error: function (status, message) { return "Error " + status + ": " + message; },
    },
    ar: {
      title: "اسأل المقال",
      launcher: "اسأل المقال",
      open: "افتح المحادثة",
      close: "أغلق المحادثة",
      placeholder: "اسأل بالعربية أو بالإنجليزية…",
      send: "إرسال",
      thinking: "أبحث في المقال…",
      hint: "تقتبس الإجابات من المقال وتذكر مصادرها.",
      source: "المصدر",
      translation: "الترجمة الإنجليزية",
      showSource: "اعرض المصدر",
      original: "المقال الأصلي",
      forbidden:
        "هذا الموقع غير مسموح له باستخدام هذه المحادثة (اطلب من مالك الموقع إضافته إلى QA_BOT_ALLOWED_ORIGINS).",
      tooMany: function (s) { return "أسئلة كثيرة جدًا، أعد المحاولة بعد " + s + " ث."; },
      tooManyLater: "أسئلة كثيرة جدًا، أعد المحاولة بعد دقيقة.",
      unavailable: function (s) { return "المحادثة غير متاحة مؤقتًا، أعد المحاولة بعد " + s + " ث."; },
      degraded: "وُجدت بالبحث بالكلمات فقط: البحث الكامل غير متاح مؤقتًا.",
      timeout: "لم تصل الإجابة في الوقت المحدد. حاول مرة أخرى.",
      offline: "تعذّر الوصول إلى خادم المحادثة. حاول لاحقًا.",
      error: function (status, message) { return "خطأ " + status + ": " + message; },
    },
  };
  var T = LABELS[LANG];
  var TITLE = (script.getAttribute("data-title") || "").trim() || T.title;
  var ARTICLE = (script.getAttribute("data-article") || "").trim();

  var CSS = [
    ":host{all:initial;}",
    ".root{all:initial;display:block;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',",
    "'Noto Sans Arabic','Noto Naskh Arabic',Tahoma,'DejaVu Sans',Arial,sans-serif;font-size:15px;",
    "line-height:1.5;color:#1f2328;text-align:start;-webkit-text-size-adjust:100%;}",
    ".root *,.root *::before,.root *::after{box-sizing:border-box;}",
    "[hidden]{display:none!important;}",
    "button,textarea{font:inherit;color:inherit;margin:0;}",
    "button{cursor:pointer;}",
    ".launcher{position:fixed;bottom:20px;right:20px;left:auto;z-index:2147483000;display:flex;",
    "align-items:center;gap:8px;padding:12px 18px;border:0;border-radius:999px;background:#1f6feb;",
    "color:#fff;font-weight:600;box-shadow:0 6px 20px rgba(0,0,0,.25);}",
    ".launcher:hover{background:#1a5fd0;}",
    ".launcher:focus-visible,.send:focus-visible,.close:focus-visible,.cite:focus-visible{",
    "outline:3px solid #f0b400;outline-offset:2px;}",
    ".launcher svg{width:20px;height:20px;fill:currentColor;flex:none;}",
    ".root[dir=rtl] .launcher,.root[dir=rtl] .panel{right:auto;left:20px;}",
    ".panel{position:fixed;bottom:88px;right:20px;z-index:2147483001;width:380px;",
    "max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 110px);display:flex;",
    "flex-direction:column;background:#fff;border-radius:14px;overflow:hidden;",
    "box-shadow:0 12px 40px rgba(0,0,0,.28);border:1px solid #d0d7de;}",
    ".head{display:flex;align-items:center;gap:8px;padding:12px 14px;background:#1f6feb;color:#fff;}",
    ".title{flex:1;margin:0;font-size:16px;font-weight:700;overflow:hidden;text-overflow:ellipsis;",
    "white-space:nowrap;}",
    ".close{border:0;background:transparent;color:#fff;font-size:22px;line-height:1;padding:2px 8px;",
    "border-radius:6px;}",
    ".close:hover{background:rgba(255,255,255,.18);}",
    ".messages{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;",
    "background:#f6f8fa;overscroll-behavior:contain;}",
    ".hint{margin:0;color:#57606a;font-size:13px;text-align:center;}",
    ".msg{max-width:90%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;",
    "overflow-wrap:anywhere;text-align:start;}",
    ".msg[lang=ar],.passage{font-family:'Noto Naskh Arabic','Noto Sans Arabic','Geeza Pro',",
    "'Traditional Arabic',Tahoma,'DejaVu Sans',Arial,sans-serif;line-height:1.8;}",
    ".msg p{margin:0;}",
    ".user{align-self:flex-end;background:#1f6feb;color:#fff;}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #d0d7de;}",
    ".abstained{color:#57606a;}",
    ".note{margin-top:6px !important;font-size:12px;color:#57606a;}",
    ".pending{align-self:flex-start;color:#57606a;font-style:italic;background:transparent;}",
    ".error{align-self:stretch;max-width:none;background:#fff1f0;color:#a40e26;border:1px solid #ffb3ad;}",
    ".cite{display:inline;border:0;background:#ddf4ff;color:#0969da;font-weight:700;padding:0 4px;",
    "margin:0 1px;border-radius:4px;font-size:.9em;}",
    ".cite[aria-expanded=true]{background:#1f6feb;color:#fff;}",
    ".card{margin-top:8px;padding:8px 10px;border-radius:8px;background:#f6f8fa;border:1px solid #d0d7de;",
    "white-space:normal;font-size:14px;}",
    ".card-head{margin:0 0 4px;font-size:12px;color:#57606a;font-weight:600;}",
    ".passage{margin:0 0 6px;}",
    ".passage mark{background:#fde68a;color:inherit;border-radius:3px;padding:0 2px;}",
    ".translation{margin:0;color:#424a53;}",
    ".translation-label{display:block;font-size:12px;color:#57606a;font-weight:600;}",
    ".source-url{display:inline-block;margin-top:4px;font-size:12px;color:#0969da;}",
    ".composer{display:flex;gap:8px;padding:10px;border-top:1px solid #d0d7de;background:#fff;}",
    "textarea{flex:1;resize:none;min-height:42px;max-height:120px;padding:9px 10px;border:1px solid #8c959f;",
    "border-radius:8px;background:#fff;unicode-bidi:plaintext;text-align:start;line-height:1.4;}",
    "textarea:focus{outline:2px solid #1f6feb;outline-offset:0;border-color:#1f6feb;}",
    ".send{border:0;border-radius:8px;padding:0 16px;background:#1f6feb;color:#fff;font-weight:600;}",
    ".send:disabled{opacity:.55;cursor:default;}",
    ".root.page[dir] .panel{top:0;bottom:0;left:0;right:0;width:auto;height:auto;max-width:none;max-height:none;",
    "border-radius:0;border:0;box-shadow:none;}",
    "@media (max-width:480px){",
    ".panel,.root[dir=rtl] .panel{top:0;bottom:0;left:0;right:0;width:auto;height:auto;max-width:none;",
    "max-height:none;border-radius:0;border:0;}",
    ".open .launcher{display:none;}",
    "textarea{font-size:16px;}",
    "}",
  ].join("");

  // ---- DOM helpers: every piece of text goes in through textContent ----
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  // ---- build the widget ----
  var host = document.createElement("qa-bot-widget");
  host.style.setProperty("all", "initial", "important");
  host.style.setProperty("direction", "ltr", "important"); // `all` leaves direction alone
  host.style.setProperty("unicode-bidi", "normal", "important");
  var shadow = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = CSS;
  shadow.appendChild(style);

  var root = el("div", "root" + (pageMode ? " page open" : ""));
  root.setAttribute("dir", LANG === "ar" ? "rtl" : "ltr");
  root.setAttribute("lang", LANG);
  shadow.appendChild(root);

  var launcher = el("button", "launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-label", T.open);
  launcher.setAttribute("aria-expanded", "false");
  launcher.appendChild(chatIcon());
  launcher.appendChild(el("span", "launcher-label", T.launcher));
  if (pageMode) launcher.hidden = true;
  root.appendChild(launcher);

  var panel = el("section", "panel");
  panel.setAttribute("role", pageMode ? "main" : "dialog");
  panel.setAttribute("aria-label", TITLE);
  panel.hidden = !pageMode;
  var head = el("div", "head");
  head.appendChild(el("h2", "title", TITLE));
  var closeBtn = el("button", "close", "×");
  closeBtn.type = "button";
  closeBtn.setAttribute("aria-label", T.close);
  if (pageMode) closeBtn.hidden = true;
  head.appendChild(closeBtn);
  panel.appendChild(head);

  var messages = el("div", "messages");
  messages.setAttribute("role", "log");
  messages.setAttribute("aria-live", "polite");
  messages.appendChild(el("p", "hint", T.hint));
  panel.appendChild(messages);

  var form = el("form", "composer");
  var input = el("textarea", "input");
  input.rows = 1;
  input.dir = "auto";
  input.placeholder = T.placeholder;
  input.setAttribute("aria-label", T.placeholder);
  var sendBtn = el("button", "send", T.send);
  sendBtn.type = "submit";
  form.appendChild(input);
  form.appendChild(sendBtn);
  panel.appendChild(form);
  root.appendChild(panel);

  function mount() {
    (document.body || document.documentElement).appendChild(host);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  // ---- open / close ----
  function setOpen(open) {
    if (pageMode) return;
    panel.hidden = !open;
    root.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    if (open) input.focus();
    else launcher.focus();
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") setOpen(false);
  });

  // ---- conversation ----
  var history = [];
  var busy = false;

  function scrollDown() {
    messages.scrollTop = messages.scrollHeight;
  }

  function addMessage(node) {
    messages.appendChild(node);
    scrollDown();
    return node;
  }

  // Scroll the message list (only it, never the host page) so that `node` is in view.
  function reveal(node) {
    var box = node.getBoundingClientRect();
    var view = messages.getBoundingClientRect();
    if (box.bottom > view.bottom) messages.scrollTop += Math.min(box.bottom - view.bottom + 8, box.top - view.top);
    else if (box.top < view.top) messages.scrollTop -= view.top - box.top + 8;
  }

  // The textarea grows with its text (up to its CSS max-height).
  function fit() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 120) + "px";
  }

  function userMessage(text) {
    var node = el("div", "msg user");
    node.dir = "auto";
    node.appendChild(el("p", "text", text));
    return addMessage(node);
  }

  function errorMessage(text) {
    var node = el("div", "msg error");
    node.dir = "auto";
    node.setAttribute("role", "alert");
    node.appendChild(el("p", "text", text));
    return addMessage(node);
  }

  // Python offsets count code points; JS strings count UTF-16 units: slice on code points.
  function highlighted(passage, start, highlights) {
    var chars = Array.from(passage);
    var spans = [];
    (Array.isArray(highlights) ? highlights : []).forEach(function (h) {
      if (!Array.isArray(h) || h.length < 2) return;
      var a = Math.max(0, Number(h[0]) - start);
      var b = Math.min(chars.length, Number(h[1]) - start);
      if (isFinite(a) && isFinite(b) && b > a) spans.push([a, b]);
    });
    spans.sort(function (x, y) { return x[0] - y[0]; });
    var node = el("blockquote", "passage");
    node.dir = "auto";
    var pos = 0;
    spans.forEach(function (span) {
      var a = Math.max(span[0], pos);
      if (span[1] <= a) return;
      if (a > pos) node.appendChild(document.createTextNode(chars.slice(pos, a).join("")));
      node.appendChild(el("mark", null, chars.slice(a, span[1]).join("")));
      pos = span[1];
    });
    if (pos < chars.length) node.appendChild(document.createTextNode(chars.slice(pos).join("")));
    return node;
  }

  function citationCard(c) {
    var card = el("div", "card");
    card.dir = LANG === "ar" ? "rtl" : "ltr";
    card.lang = LANG;
    var headLine = el("p", "card-head");
    headLine.appendChild(document.createTextNode(T.source + " [" + c.n + "]: "));
    // For readers: the article's title (or id), section and date. The file path and offsets stay in the JSON.
    var parts = [
      ["source-title", c.title || c.article_id],
      ["source-section", c.section],
      ["source-date", c.date]
    ].filter(function (part) { return typeof part[1] === "string" && part[1].trim(); });
    parts.forEach(function (part, i) {
      if (i) headLine.appendChild(document.createTextNode(" · "));
      var name = el("bdi", part[0], part[1].trim());
      name.dir = part[0] === "source-date" ? "ltr" : "auto";
      headLine.appendChild(name);
    });
    card.appendChild(headLine);
    var passage = highlighted(String(c.passage || ""), Number(c.start) || 0, c.highlights);
    passage.lang = "ar";
    card.appendChild(passage);
    if (c.translation) {
      card.appendChild(el("span", "translation-label", T.translation));
      var tr = el("p", "translation", c.translation);
      tr.dir = "ltr";
      tr.lang = "en";
      card.appendChild(tr);
    }
    if (typeof c.url === "string" && /^https?:\/\/[^\s"'<>]+$/i.test(c.url.trim())) {
      var link = el("a", "source-url", T.original);
      link.href = c.url.trim();
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      card.appendChild(link);
    }
    return card;
  }

  function answerMessage(data) {
    var node = el("div", "msg bot" + (data.abstained ? " abstained" : ""));
    node.dir = "auto";
    node.lang = data.language === "ar" ? "ar" : "en";
    var text = el("p", "text");
    var citations = {};
    (Array.isArray(data.citations) ? data.citations : []).forEach(function (c) {
      if (c && typeof c === "object") citations[String(c.n)] = c;
    });
    var sources = el("div", "sources");
    var buttons = [];
    var body = String(data.text || "");
    var marker = /\[(\d{1,3})\]/g;
    var last = 0;
    var match;
    while ((match = marker.exec(body)) !== null) {
      if (match.index > last) text.appendChild(document.createTextNode(body.slice(last, match.index)));
      var c = citations[match[1]];
      if (c) text.appendChild(citeButton(c, sources, buttons));
      else text.appendChild(document.createTextNode(match[0]));
      last = marker.lastIndex;
    }
    if (last < body.length) text.appendChild(document.createTextNode(body.slice(last)));
    node.appendChild(text);
    if (typeof data.degraded === "string" && data.degraded) node.appendChild(el("p", "note", T.degraded));
    node.appendChild(sources);
    return addMessage(node);
  }

  function citeButton(c, sources, buttons) {
    var button = el("button", "cite", "[" + c.n + "]");
    button.type = "button";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-label", T.showSource + " " + c.n);
    button.setAttribute("data-n", String(c.n));
    buttons.push(button);
    button.addEventListener("click", function () {
      var wasOpen = button.getAttribute("aria-expanded") === "true";
      buttons.forEach(function (b) { b.setAttribute("aria-expanded", "false"); });
      sources.textContent = "";
      if (!wasOpen) {
        button.setAttribute("aria-expanded", "true");
        reveal(sources.appendChild(citationCard(c)));
      }
    });
    return button;
  }

  function readJson(response) {
    return response.text().then(function (raw) {
      try {
        return JSON.parse(raw);
      } catch (e) {
        return null;
      }
    });
  }

  // A refused origin gets a 403 without CORS headers (its preflight fails too), so the browser
  // reports a network error; /widget/origin says whether this page's origin is the reason.
  function originRefused() {
    return fetch(BASE + "/widget/origin", { credentials: "omit", cache: "no-store" })
      .then(readJson)
      .then(function (data) { return !!data && data.allowed === false; })
      .catch(function () { return false; });
  }

  function explain(status, data, retryAfter) {
    if (status === 403) return T.forbidden;
    var seconds = parseInt(retryAfter || "", 10);
    if (status === 429) return seconds > 0 ? T.tooMany(seconds) : T.tooManyLater; // Retry-After unreadable: no number
    if (status === 503 && seconds > 0) return T.unavailable(seconds);
    var message = data && typeof data.error === "string" ? data.error : "HTTP " + status;
    return T.error(status, message);
  }

  function ask(question) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var body = { question: question, history: history.slice(-MAX_HISTORY) };
    if (ARTICLE) body.article = ARTICLE;
    var payload = JSON.stringify(body);
    return fetch(BASE + "/api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: payload,
      credentials: "omit",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        return readJson(response).then(function (data) {
          if (response.ok && data && typeof data.text === "string") return { answer: data };
          return { error: explain(response.status, data, response.headers.get("Retry-After")) };
        });
      })
      .catch(function (err) {
        if (err && err.name === "AbortError") return { error: T.timeout };
        return originRefused().then(function (refused) {
          return { error: refused ? T.forbidden : T.offline };
        });
      })
      .then(function (result) {
        if (timer) clearTimeout(timer);
        return result;
      });
  }

  function submit() {
    var question = input.value.trim();
    if (!question || busy) return;
    busy = true;
    sendBtn.disabled = true;
    input.value = "";
    fit();
    userMessage(question);
    var pending = addMessage(el("div", "msg pending", T.thinking));
    ask(question).then(function (result) {
      pending.remove();
      if (result.answer) {
        answerMessage(result.answer);
        history.push({ role: "user", content: question });
        history.push({ role: "assistant", content: String(result.answer.text) });
      } else {
        errorMessage(result.error);
      }
      busy = false;
      sendBtn.disabled = false;
      input.focus();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });
  input.addEventListener("input", fit);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
})();
