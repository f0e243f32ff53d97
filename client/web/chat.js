// The browser chat page: one WebSocket to /ws on the host that served the page,
// speaking the same line protocol as the TCP clients (one line per frame). The socket
// is opened to log in and held only while logged in (or trying to): the node closes
// connections that do not log in in time, so an idle login form holds none.
// Everything from the network is shown with textContent, never parsed as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const view = {
    status: $("status"), me: $("me"), logout: $("logout"),
    loginView: $("login-view"), loginForm: $("login-form"), name: $("name"),
    loginError: $("login-error"),
    chatView: $("chat-view"), messages: $("messages"), sendForm: $("send-form"),
    text: $("text"), sendError: $("send-error"), target: $("target"), online: $("online"), onlineCount: $("online-count"),
    onlineSummary: $("online-summary"),
  };
  const state = {
    ws: null,
    me: null,          // our name once logged in
    wanted: null,      // the name to log in with (again, after a reconnect); null: stay offline
    pending: [],       // commands sent, waiting for their one reply each (in order)
    online: new Set(), // names exactly as the server sends them (see setOnline)
    counted: null,     // past the presence limit: how many are online (no names); else null
    target: null,      // whom Enter sends to; null means everyone
    attempt: 0,        // reconnect attempts since the connection last worked
    offline: false,    // this outage is already reported (one line, not one per attempt)
    bye: null,         // the reason in the server's `bye` on this connection, if it sent one
    retry: null,       // the timer of the next reconnect attempt
  };

  // What the page says for `bye <reason>`, the server's last line before it closes.
  const BYE_REASONS = new Map([
    ["slow", "messages came faster than this page read them"],
    ["shutdown", "the server is shutting down"],
    ["idle", "you did not log in in time"],
    ["server_full", "the server is full"],
  ]);
  const byeText = (reason) => BYE_REASONS.get(reason) ?? `the server closed it (${reason})`;

  // The node's line limit (its default --max-line-bytes), counted in UTF-8 bytes over
  // the whole line, command word included; a longer line is refused with line_too_long.
  const MAX_LINE_BYTES = 4096;
  const utf8 = new TextEncoder();

  function wsUrl() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws`;
  }

  function setStatus(text, down = false) {
    view.status.textContent = text;
    view.status.classList.toggle("down", down);
  }

  // ---- the connection --------------------------------------------------
  function connect() {
    clearTimeout(state.retry);
    setStatus(state.attempt ? "reconnecting…" : "connecting…");
    const ws = new WebSocket(wsUrl());
    let opened = false;
    state.ws = ws;
    state.pending = [];
    state.bye = null;
    ws.onopen = () => {
      opened = true;
      setStatus("connected");
      if (state.wanted) send(`login ${state.wanted}`);
    };
    ws.onmessage = (event) => receive(String(event.data));
    ws.onclose = () => {
      if (state.ws !== ws) return;
      state.ws = null;
      if (state.wanted === null) {
        setStatus("not connected");
        return;
      }
      // A connection that worked restarts the backoff, unless the server turned it away.
      if (opened && state.bye !== "server_full") state.attempt = 0;
      reconnectLater(state.bye);
    };
  }

  function reconnectLater(bye) {
    const why = bye === null ? "" : `: ${byeText(bye)}`;
    const delay = Math.min(500 * 2 ** state.attempt, 10000);
    state.attempt += 1;
    setStatus(`connection lost${why} — reconnecting in ${Math.ceil(delay / 1000)}s…`, true);
    if (state.me === null) {
      view.loginError.textContent = `Could not log in${why || ": the connection failed"}. `
        + "Trying again…";
    } else if (!state.offline) {
      state.offline = true;
      addLine("system error", `Connection lost${why}. Reconnecting…`);
      forgetOnline();
    }
    state.retry = setTimeout(connect, delay);
  }

  // Stay offline until the login form is used again.
  function disconnect() {
    const ws = state.ws;
    state.ws = null;
    state.wanted = null;
    state.attempt = 0;
    clearTimeout(state.retry);
    setStatus("not connected");
    if (ws) ws.close();
  }

  function send(line) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
      addLine("system error", "Not connected; try again in a moment.");
      return false;
    }
    state.pending.push(line);
    state.ws.send(line);
    return true;
  }

  function receive(line) {
    if (line.startsWith("ok ") || line.startsWith("error ")) {
      reply(line, state.pending.shift() || "");
    } else {
      handleEvent(line);
    }
  }

  // ---- replies: paired with the command that caused them -----------------
  function reply(line, command) {
    const [status, rest] = splitOnce(line);
    const ok = status === "ok";
    const [verb, detail] = splitOnce(rest);
    const errorText = ok ? "" : detail;
    const commandVerb = splitOnce(command)[0];
    if (commandVerb === "login") return loginReply(ok, detail, errorText);
    if (!ok) return addLine("system error", errorText);
    if (verb === "msg") {
      const text = splitOnce(splitOnce(command)[1])[1].replace(/^ +/, "");
      return addMessage(`you → ${detail}`, text, "dm outgoing");
    }
    if (verb === "userlist") return userlistReply(detail, splitOnce(command)[1].trim());
    if (verb === "whoami") return addLine("system", `You are ${detail}.`);
    if (verb === "logout") return loggedOut();
    return undefined;
  }

  function loginReply(ok, name, errorText) {
    if (!ok) {
      const relogin = state.me !== null;
      state.me = null;
      disconnect();
      showLogin(relogin ? `Could not log in again: ${errorText}` : errorText);
      return;
    }
    const again = state.me !== null;
    state.offline = false;
    state.me = name;
    state.wanted = name;
    view.me.textContent = name;
    showChat();
    addLine("system", again ? `Reconnected as ${name}.` : `Logged in as ${name}.`);
  }

  function loggedOut() {
    state.me = null;
    disconnect();
    showLogin("");
  }

  // ---- events -------------------------------------------------------------
  function handleEvent(line) {
    const [kind, rest] = splitOnce(line);
    if (kind === "bye") return serverSaidBye(splitOnce(rest)[0]);
    if (kind === "msg" || kind === "msgall") {
      const [from, text] = splitOnce(rest);
      if (kind === "msg") addMessage(`${from} → you`, text, "dm incoming");
      else addMessage(from, text, "broadcast");
      return;
    }
    if (kind === "online") return setCounted(rest);
    const names = rest.split(" ").filter(Boolean);
    if (kind === "users") setOnline(names);
    if (kind === "join") {
      names.forEach((n) => state.online.add(n));
      renderOnline();
      addLine("system", `${names.join(", ")} joined`);
    }
    if (kind === "leave") {
      names.forEach((n) => state.online.delete(n));
      renderOnline();
      addLine("system", `${names.join(", ")} left`);
      if (state.target && !state.online.has(state.target)) setTarget(null);
    }
  }

  function serverSaidBye(reason) {
    if (reason !== "name_taken") {
      state.bye = reason;  // told when the close comes, which then reconnects
      return;
    }
    // Someone else holds our name now (say, after a network split): logging in again
    // under it by ourselves would take it back from them.
    const name = state.me ?? state.wanted;
    state.me = null;
    disconnect();
    showLogin(`Someone else is now using the name ${name}, so you were logged out here. `
      + "Pick a name to log in again.");
  }

  // ---- drawing ------------------------------------------------------------
  function splitOnce(text) {
    const at = text.indexOf(" ");
    return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
  }

  function append(li) {
    const box = view.messages;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.appendChild(li);
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  function addMessage(from, text, kind) {
    const li = document.createElement("li");
    li.className = kind;
    const who = document.createElement("span");
    who.className = "from";
    who.textContent = from;
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    li.append(who, body);
    append(li);
  }

  function addLine(kind, text) {
    const li = document.createElement("li");
    li.className = kind;
    li.textContent = text;
    append(li);
  }

  // Keyed by the exact string, not a folded form: while online a name is unique and
  // every line carries it as typed at login, so `leave X` is about X only. A page
  // cannot fold as the server does (Straße is STRASSE there, not in toLowerCase), and
  // folding made `join zoë` then a late `leave ZOË` (two sessions) drop zoë.
  // `users` is everyone online: it replaces the whole list, and ends a count.
  function setOnline(names) {
    state.counted = null;
    state.online = new Set(names);
    renderOnline();
  }

  // `online <n>`: past the presence limit the server sends a count and no more join or
  // leave, so the names we have would only go stale; show the count until `users`.
  function setCounted(count) {
    if (!/^[0-9]+$/.test(count)) return;
    state.counted = Number(count);
    state.online = new Set();
    renderOnline();
  }

  // The whole list only when we asked for all of it and got all of it; a page (the
  // next after a name, or one ending in `+<more>`) is shown as a line. A name never
  // starts with "+".
  function userlistReply(detail, after) {
    const names = detail.split(" ").filter(Boolean);
    const more = /^\+[0-9]+$/.test(names[names.length - 1]) ? Number(names.pop().slice(1)) : null;
    if (more === null && after === "" && state.counted === null) return setOnline(names);
    const where = after ? `Online after ${after}` : "Online";
    let text = `${where}: ${names.join(", ") || "nobody"}`;
    if (more !== null && names.length) {
      text += ` … and ${formatCount(more)} more `
        + `(/userlist ${names[names.length - 1]} for the next page)`;
    }
    return addLine("system", text);
  }

  const formatCount = (count) => count.toLocaleString("en");

  // While disconnected we cannot know who is online: show nobody rather than a stale list.
  function forgetOnline() {
    setOnline([]);
    view.onlineCount.textContent = "–";
  }

  function renderOnline() {
    const counted = state.counted !== null;
    view.onlineSummary.hidden = !counted;
    view.onlineSummary.textContent = counted
      ? `${formatCount(state.counted)} online — too many to list` : "";
    if (counted) view.onlineCount.textContent = formatCount(state.counted);
    const names = counted ? [] : [...state.online].sort((a, b) => a.localeCompare(b));
    view.online.replaceChildren(...names.map((name) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = name;
      button.title = `Message ${name} directly`;
      if (name === state.me) button.classList.add("self");
      button.addEventListener("click", () => setTarget(name));
      li.appendChild(button);
      return li;
    }));
    if (!counted) view.onlineCount.textContent = String(names.length);
  }

  function setTarget(name) {
    state.target = name;
    view.target.hidden = name === null;
    view.target.textContent = name === null ? "" : `to ${name} ✕`;
    view.text.placeholder = name === null ? "Message everyone" : `Message ${name}`;
    view.text.focus();
  }

  function showLogin(error) {
    view.chatView.hidden = true;
    view.loginView.hidden = false;
    view.logout.hidden = true;
    view.me.hidden = true;
    view.loginError.textContent = error;
    view.name.focus();
  }

  function showChat() {
    view.loginView.hidden = true;
    view.chatView.hidden = false;
    view.logout.hidden = false;
    view.me.hidden = false;
    view.loginError.textContent = "";
    view.text.focus();
  }

  // ---- what the user does -----------------------------------------------------
  view.loginForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = view.name.value.trim();
    if (!name) return;
    if (/\s/.test(name)) {
      view.loginError.textContent = "A name is one word: letters, digits, _ - and . only.";
      return;
    }
    view.loginError.textContent = "";
    state.wanted = name;
    if (state.ws === null) connect();  // now, even if a retry was due later
    else if (state.ws.readyState === WebSocket.OPEN) send(`login ${name}`);
    // else the socket is opening, and logs in as state.wanted once open
  });

  view.sendForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = view.text.value;
    if (!text.trim()) return;
    let line;
    if (text.startsWith("/")) line = text.slice(1);
    else if (state.target) line = `msg ${state.target} ${text}`;
    else line = `msgall ${text}`;
    const over = utf8.encode(line).length - MAX_LINE_BYTES;
    if (over > 0) {
      // Refuse here and keep the text: the server would refuse it and it would be lost.
      view.sendError.textContent = `Not sent: ${over} ${over === 1 ? "byte" : "bytes"} over `
        + `the limit of ${MAX_LINE_BYTES} bytes (é counts as 2, most emoji as 4).`;
      return;
    }
    if (send(line)) view.text.value = "";
    view.sendError.textContent = "";
  });
  view.text.addEventListener("input", () => { view.sendError.textContent = ""; });

  view.target.addEventListener("click", () => setTarget(null));
  view.logout.addEventListener("click", () => send("logout"));
})();
