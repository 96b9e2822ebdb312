// The web app (/app/): a chat client over the server's public API, the REST routes of API.md and
// the user socket /ws/ of PROTOCOL.md. No framework, no build step. Every text that comes from
// people (names, messages) is put in the page with textContent, never as HTML.
"use strict";

(function () {
  const TOKEN_KEY = "chat-token";
  const TYPING_SHOWN_MS = 3000;
  const TYPING_SEND_EVERY_MS = 2000;
  const HISTORY_PAGE = 30;
  const INVITATIONS_EVERY_MS = 5000;

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    me: null, // {id, uuid, username}
    chats: new Map(), // uuid -> chat (below)
    users: new Map(), // uuid -> user JSON
    online: new Set(), // uuids of friends online
    open: null, // uuid of the open chat
    socket: null,
    socketReady: false, // hello received
    hadHello: false, // a hello came before on some socket: the next one is a reconnect
    reconnectDelay: 1000,
    reconnectTimer: null,
    invitationsTimer: null,
    pending: new Map(), // client_id -> {chat, text, element}
    lastTypingSent: 0,
  };

  const $ = (id) => document.getElementById(id);

  // ---- elements -------------------------------------------------------------------------------

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(text, onClick, className) {
    const node = element("button", className || "small", text);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // ---- REST -----------------------------------------------------------------------------------

  class APIError extends Error {
    constructor(status, body) {
      super(describe(status, body));
      this.status = status;
      this.body = body;
    }
  }

  /// The messages of a DRF error body, one a line.
  function describe(status, body) {
    if (body && typeof body === "object") {
      const lines = [];
      for (const [field, value] of Object.entries(body)) {
        const texts = Array.isArray(value) ? value : [value];
        for (const text of texts) lines.push(field === "non_field_errors" || field === "detail" || field === "error" ? String(text) : field + ": " + text);
      }
      if (lines.length) return lines.join("\n");
    }
    return "The server answered " + status + ".";
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (state.token) headers.Authorization = "Token " + state.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let json = null;
    if (text) {
      try { json = JSON.parse(text); } catch (error) { json = null; }
    }
    if (response.status === 401 && state.token) {
      signOutLocally();
      throw new APIError(401, json);
    }
    if (!response.ok) throw new APIError(response.status, json);
    return { status: response.status, json };
  }

  /// A participant URL (absolute, maybe on a public host name) as a path on this server.
  function localPath(url) {
    try { return new URL(url, location.href).pathname; } catch (error) { return url; }
  }

  async function user(uuid) {
    if (state.users.has(uuid)) return state.users.get(uuid);
    const { json } = await api("GET", "/api/user/" + encodeURIComponent(uuid) + "/");
    state.users.set(uuid, json);
    return json;
  }

  // ---- signing in and out ---------------------------------------------------------------------

  function showAuth() {
    $("main").hidden = true;
    $("auth").hidden = false;
  }

  async function signedIn(token) {
    state.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    const { json } = await api("GET", "/api/user/currentuser/");
    state.me = json;
    state.users.set(json.uuid, json);
    $("me-name").textContent = json.username;
    $("auth").hidden = true;
    $("main").hidden = false;
    await loadChats();
    connect();
    loadInvitations();
    state.invitationsTimer = setInterval(loadInvitations, INVITATIONS_EVERY_MS);
  }

  function signOutLocally() {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    state.me = null;
    state.chats.clear();
    state.pending.clear();
    state.open = null;
    state.hadHello = false;
    clearInterval(state.invitationsTimer);
    clearTimeout(state.reconnectTimer);
    if (state.socket) {
      const socket = state.socket;
      state.socket = null;
      socket.close(1000);
    }
    clear($("chats"));
    clear($("messages"));
    clear($("search-results"));
    clear($("invitations"));
    $("chat").hidden = true;
    $("no-chat").hidden = false;
    // Nothing typed by the last person stays in the page (a shared computer): no e-mail, no password.
    for (const id of ["signin-form", "signup-form", "password-form"]) $(id).reset();
    for (const id of ["signin-error", "signup-error", "signup-note", "password-error", "password-note"]) $(id).textContent = "";
    $("password-box").open = false;
    closeMessageSearch();
    showAuth();
  }

  async function signOut() {
    try { await api("POST", "/api/rest-auth/logout/"); } catch (error) { /* signed out anyway */ }
    signOutLocally();
  }

  function formHandler(form, errorId, work) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = $(errorId);
      error.textContent = "";
      const submit = form.querySelector("button[type=submit]");
      submit.disabled = true;
      try {
        await work(new FormData(form), form);
      } catch (failure) {
        error.textContent = failure.message;
      } finally {
        submit.disabled = false;
      }
    });
  }

  formHandler($("signin-form"), "signin-error", async (data, form) => {
    const { json } = await api("POST", "/api/rest-auth/login/", { email: data.get("email"), password: data.get("password") });
    form.reset();
    await signedIn(json.key);
  });

  formHandler($("signup-form"), "signup-error", async (data, form) => {
    const body = { email: data.get("email"), password1: data.get("password1"), password2: data.get("password2") };
    if (data.get("username")) body.username = data.get("username");
    const { json } = await api("POST", "/api/rest-auth/registration/", body);
    if (!json || !json.key) {
      // A server that requires a confirmed e-mail (REQUIRE_EMAIL_VERIFICATION) gives no key yet.
      $("signup-note").textContent = (json && json.detail ? json.detail + " " : "") + "Confirm your e-mail with the link sent to it, then sign in.";
      form.reset();
      return;
    }
    form.reset();
    await signedIn(json.key);
  });

  $("signout").addEventListener("click", signOut);

  // The key stays valid after a change; the user's other devices are signed out by the server.
  formHandler($("password-form"), "password-error", async (data, form) => {
    $("password-note").textContent = "";
    const body = { new_password1: data.get("new_password1"), new_password2: data.get("new_password2") };
    if (data.get("old_password")) body.old_password = data.get("old_password");
    const { json } = await api("POST", "/api/rest-auth/password/change/", body);
    form.reset();
    $("password-note").textContent = (json && json.detail) || "New password has been saved.";
  });

  // ---- Google sign-in, when the server has it on ----------------------------------------------
  // The implicit flow for an ID token: Google's consent page sends the browser back to /app/ with
  // the token in the address's fragment, which no server sees; the page trades it for an API
  // token. The state ties Google's answer to this tab's request, the nonce ties the token to it.

  const GOOGLE_REQUEST_KEY = "chat-google-request";

  function randomText() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  /// Shows "Sign in with Google" when the server accepts Google accounts (app/config.json).
  async function offerGoogle() {
    let google = null;
    try {
      const { json } = await api("GET", "/app/config.json");
      google = json && json.google;
    } catch (error) {
      return; // no button: the forms still work
    }
    if (!google) return;
    $("google-signin").hidden = false;
    $("google-button").addEventListener("click", () => {
      const request = { state: randomText(), nonce: randomText() };
      sessionStorage.setItem(GOOGLE_REQUEST_KEY, JSON.stringify(request));
      const consent = new URL(google.authorization_url);
      consent.search = new URLSearchParams({
        client_id: google.client_id,
        redirect_uri: location.origin + "/app/",
        response_type: "id_token",
        scope: "openid email profile",
        state: request.state,
        nonce: request.nonce,
        prompt: "select_account",
      }).toString();
      location.assign(consent.toString());
    });
  }

  /// The claim `name` of a JWT, read without checking it (the server checks the token).
  function tokenClaim(token, name) {
    try {
      const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(payload))[name];
    } catch (error) {
      return undefined;
    }
  }

  /// Google's answer in the address's fragment, if one came: {token} when it answers this tab's
  /// request, {error} otherwise. The fragment is taken off the address either way.
  function googleAnswer() {
    const fields = new URLSearchParams(location.hash.slice(1));
    if (!fields.has("id_token") && !fields.has("error")) return null;
    history.replaceState(null, "", location.pathname + location.search);
    const request = JSON.parse(sessionStorage.getItem(GOOGLE_REQUEST_KEY) || "null");
    sessionStorage.removeItem(GOOGLE_REQUEST_KEY);
    if (fields.has("error")) return { error: "Google sign-in did not finish (" + fields.get("error") + ")." };
    const token = fields.get("id_token");
    if (!request || fields.get("state") !== request.state || tokenClaim(token, "nonce") !== request.nonce) {
      return { error: "That Google sign-in was not started on this page; try again." };
    }
    return { token };
  }

  async function signInWithGoogle(answer) {
    if (answer.error) throw new Error(answer.error);
    const { json } = await api("POST", "/api/rest-auth/google/", { id_token: answer.token });
    await signedIn(json.key);
  }

  // ---- people and invitations -----------------------------------------------------------------

  formHandler($("search-form"), "search-note", async (data) => {
    const phrase = String(data.get("phrase")).trim();
    const list = $("search-results");
    clear(list);
    if (!phrase) return;
    const { json } = await api("GET", "/api/user/search/" + encodeURIComponent(phrase) + "/?limit=20");
    const results = json ? json.results : [];
    $("search-note").textContent = results.length ? "" : "Nobody found.";
    for (const person of results) {
      const item = element("li", "person");
      item.dataset.user = person.uuid;
      item.appendChild(element("span", "name", person.username));
      if (person.uuid === state.me.uuid) {
        item.appendChild(element("span", "note", "you"));
      } else if (person.is_friend_of_current_user) {
        item.appendChild(element("span", "note", "friend"));
      } else {
        const invite = button("Invite", async () => {
          invite.disabled = true;
          try {
            await api("POST", "/api/user/friends/", { user_uuid: person.uuid });
            invite.replaceWith(element("span", "note invited", "invited"));
          } catch (failure) {
            invite.replaceWith(element("span", "note", failure.status === 406 ? "already invited" : failure.message));
          }
        });
        invite.classList.add("invite");
        item.appendChild(invite);
      }
      list.appendChild(item);
    }
  });

  async function loadInvitations() {
    if (!state.token) return;
    let invitations;
    try {
      const { json } = await api("GET", "/api/user/invitations/");
      invitations = json || [];
    } catch (failure) {
      return;
    }
    const list = $("invitations");
    const shown = new Set(Array.from(list.children, (item) => item.dataset.invitation));
    const current = new Set(invitations.map((each) => String(each.id)));
    for (const item of Array.from(list.children)) {
      if (!current.has(item.dataset.invitation)) item.remove();
    }
    for (const invitation of invitations) {
      if (shown.has(String(invitation.id))) continue;
      const item = element("li", "invitation");
      item.dataset.invitation = String(invitation.id);
      item.appendChild(element("span", "name", invitation.first_user));
      const answer = (decision) => async () => {
        try {
          const { json } = await api("POST", "/api/user/invitations/", { contact_id: invitation.id, decision });
          item.remove();
          if (decision && json && json.uuid) await addChat(json);
        } catch (failure) {
          item.appendChild(element("span", "error", failure.message));
        }
      };
      const accept = button("Accept", answer(true));
      accept.classList.add("accept");
      item.appendChild(accept);
      item.appendChild(button("Decline", answer(false), "small link"));
      list.appendChild(item);
    }
  }

  $("invitations-refresh").addEventListener("click", loadInvitations);

  // ---- groups ---------------------------------------------------------------------------------

  formHandler($("group-form"), "group-error", async (data) => {
    const { json } = await api("POST", "/api/chat/mychats/groups/", { name: String(data.get("name")).trim() });
    $("group-name").value = "";
    const chat = await addChat(json);
    if (chat.seen === null) chat.seen = chat.lastSeq;
    openChat(chat.uuid);
  });

  /// The group form of the open chat: the caller's friends who are not in it yet.
  async function showMemberForm(chat) {
    const form = $("member-form");
    form.hidden = !chat.isGroup;
    $("rename-form").hidden = !chat.isGroup;
    showRemoveForm(chat);
    if (!chat.isGroup) return;
    const select = $("member-select");
    clear(select);
    let friends = [];
    try {
      const { json } = await api("GET", "/api/user/friends/?limit=100");
      friends = json ? json.results : [];
    } catch (failure) {
      return;
    }
    const members = chat.members || new Set();
    for (const friend of friends) {
      if (members.has(friend.uuid)) continue;
      const option = element("option", null, friend.username);
      option.value = friend.uuid;
      select.appendChild(option);
    }
    form.querySelector("button[type=submit]").disabled = select.options.length === 0;
  }

  formHandler($("member-form"), "chat-error", async (data) => {
    const chat = state.chats.get(state.open);
    if (!chat || !data.get("user")) return;
    await api("POST", "/api/chat/" + chat.uuid + "/", { user_uuid: data.get("user") });
    await loadParticipants(chat);
    showMemberForm(chat);
  });

  /// The group's creator may remove the other members.
  function showRemoveForm(chat) {
    const form = $("remove-form");
    const select = $("remove-select");
    clear(select);
    form.hidden = !chat.isGroup || chat.creatorID !== state.me.id;
    if (form.hidden) return;
    for (const uuid of chat.members || []) {
      const person = state.users.get(uuid);
      if (!person || uuid === state.me.uuid) continue;
      const option = element("option", null, person.username);
      option.value = uuid;
      select.appendChild(option);
    }
    form.querySelector("button[type=submit]").disabled = select.options.length === 0;
  }

  formHandler($("remove-form"), "chat-error", async (data) => {
    const chat = state.chats.get(state.open);
    if (!chat || !data.get("user")) return;
    await api("DELETE", "/api/chat/" + chat.uuid + "/participants/" + encodeURIComponent(data.get("user")) + "/");
    await loadParticipants(chat);
    showMemberForm(chat);
  });

  // Message search in the open chat: the server's full-text index, best match first.
  function closeMessageSearch() {
    clear($("message-search-results"));
    $("message-search-results").hidden = true;
    $("message-search-close").hidden = true;
  }

  formHandler($("message-search-form"), "chat-error", async (data) => {
    const chat = state.chats.get(state.open);
    const phrase = String(data.get("phrase")).trim();
    if (!chat || !phrase) return;
    const { json } = await api("GET", "/api/chat/" + chat.uuid + "/search/" + encodeURIComponent(phrase) + "/?limit=20");
    const list = $("message-search-results");
    clear(list);
    const found = json ? json.results : [];
    if (!found.length) list.appendChild(element("li", "note", "Nothing found."));
    for (const message of found) {
      const item = element("li", "found");
      item.appendChild(element("span", "author", authorName(chat, message.author_id)));
      item.appendChild(element("span", "text", message.content));
      item.appendChild(element("time", "time", " " + shortTime(message.time_stamp)));
      list.appendChild(item);
    }
    list.hidden = false;
    $("message-search-close").hidden = false;
  });

  $("message-search-close").addEventListener("click", closeMessageSearch);

  // Any participant may rename a group; every member's page hears it as a `chat` `updated` frame.
  formHandler($("rename-form"), "chat-error", async (data, form) => {
    const chat = state.chats.get(state.open);
    const name = String(data.get("name")).trim();
    if (!chat || !name) return;
    await api("PATCH", "/api/chat/" + chat.uuid + "/", { name });
    form.reset();
  });

  $("chat-leave").addEventListener("click", async () => {
    const chat = state.chats.get(state.open);
    if (!chat) return;
    try {
      await api("POST", "/api/chat/" + chat.uuid + "/leave/");
    } catch (failure) {
      $("chat-error").textContent = failure.message;
    }
  });

  // ---- chats ----------------------------------------------------------------------------------

  // A chat: {uuid, name, isGroup, title, lastSeq, readSeq, unread, lastMessage, lastActivity,
  //          participants: Map(author id -> user, former members too), members: Set(user uuid), seen (highest seq received on a socket),
  //          messages: Map(seq -> message), oldest (lowest seq shown), more, historyPending,
  //          typing: Map(user uuid -> timer)}

  async function loadChats() {
    const { json } = await api("GET", "/api/chat/mychats/?limit=100");
    // Each chat's participants are read at once, not one chat after another.
    await Promise.all((json ? json.results : []).map(addChat));
    renderChats();
  }

  async function addChat(json) {
    let chat = state.chats.get(json.uuid);
    if (!chat) {
      chat = {
        uuid: json.uuid, participants: new Map(), messages: new Map(), oldest: null, more: true, historyPending: false,
        typing: new Map(), seen: null, lastSeq: 0, readSeq: 0, unread: 0, otherUUID: null,
      };
      state.chats.set(json.uuid, chat);
    }
    chat.name = json.name || "";
    chat.isGroup = !!json.is_group_chat;
    chat.lastMessage = json.lastmessage;
    chat.lastActivity = json.last_activity_date;
    if (typeof json.last_seq === "number") chat.lastSeq = Math.max(chat.lastSeq, json.last_seq);
    if (typeof json.read_seq === "number") chat.readSeq = Math.max(chat.readSeq, json.read_seq);
    if (typeof json.unread === "number") chat.unread = json.unread;
    chat.title = chat.title || chat.name || "…";
    await loadParticipants(chat);
    renderChats();
    return chat;
  }

  async function loadParticipants(chat) {
    try {
      const { json } = await api("GET", "/api/chat/" + chat.uuid + "/");
      const people = await Promise.all((json.participants || []).map((url) => api("GET", localPath(url)).then((answer) => answer.json)));
      // Names by author id stay for those who left: their messages remain.
      chat.members = new Set(people.map((person) => person.uuid));
      chat.creatorID = json.creator_id;
      for (const person of people) {
        state.users.set(person.uuid, person);
        chat.participants.set(person.id, person);
      }
      const others = people.filter((person) => person.uuid !== state.me.uuid);
      if (!chat.isGroup && others.length) chat.otherUUID = others[0].uuid;
      chat.title = chat.isGroup || !others.length ? chat.name || "(group)" : others.map((person) => person.username).join(", ");
    } catch (failure) {
      chat.title = chat.name || "(chat)";
    }
  }

  /// Someone joined since the participants were read: read them again, and name their messages.
  async function renameAuthors(chat) {
    await loadParticipants(chat);
    if (state.open !== chat.uuid) return;
    for (const author of $("messages").querySelectorAll(".author")) author.textContent = authorName(chat, Number(author.dataset.author));
  }

  function sortedChats() {
    return Array.from(state.chats.values()).sort((a, b) => String(b.lastActivity || "").localeCompare(String(a.lastActivity || "")));
  }

  function renderChats() {
    const list = $("chats");
    clear(list);
    const chats = sortedChats();
    $("chats-empty").hidden = chats.length > 0;
    for (const chat of chats) {
      const item = element("li", "chat-item" + (chat.uuid === state.open ? " open" : ""));
      item.dataset.chat = chat.uuid;
      if (!chat.isGroup) {
        const dot = element("span", "presence" + (state.online.has(chat.otherUUID) ? " online" : ""));
        dot.title = state.online.has(chat.otherUUID) ? "online" : "offline";
        item.appendChild(dot);
      }
      item.appendChild(element("span", "name", chat.title));
      const badge = element("span", "unread", chat.unread);
      badge.hidden = !chat.unread;
      item.appendChild(badge);
      item.appendChild(element("span", "preview", chat.lastMessage || ""));
      item.addEventListener("click", () => openChat(chat.uuid));
      list.appendChild(item);
    }
    document.title = (totalUnread() ? "(" + totalUnread() + ") " : "") + "chat-server";
  }

  function totalUnread() {
    let total = 0;
    for (const chat of state.chats.values()) total += chat.unread;
    return total;
  }

  function openChat(uuid) {
    const chat = state.chats.get(uuid);
    if (!chat) return;
    if (state.open !== uuid) closeMessageSearch();
    state.open = uuid;
    $("no-chat").hidden = true;
    $("chat").hidden = false;
    $("chat-title").textContent = chat.title;
    $("typing").textContent = "";
    $("chat-error").textContent = "";
    showMemberForm(chat);
    clear($("messages"));
    chat.messages.clear();
    chat.oldest = null;
    chat.more = true;
    chat.historyPending = false;
    for (const pending of state.pending.values()) {
      if (pending.chat === uuid) $("messages").appendChild(pending.element);
    }
    requestHistory(chat);
    markRead(chat);
    renderChats();
    $("composer-text").focus();
  }

  function closeChat() {
    state.open = null;
    $("chat").hidden = true;
    $("no-chat").hidden = false;
    renderChats();
  }

  $("chat-close").addEventListener("click", closeChat);

  function markRead(chat) {
    if (state.open !== chat.uuid) return;
    if (chat.lastSeq > chat.readSeq && state.socketReady) {
      chat.readSeq = chat.lastSeq;
      send({ command: "read", chat: chat.uuid, seq: chat.lastSeq });
    }
    if (chat.unread) {
      chat.unread = 0;
      renderChats();
    }
  }

  // ---- messages -------------------------------------------------------------------------------

  function authorName(chat, authorID) {
    const person = chat.participants.get(authorID);
    return person ? person.username : "user " + authorID;
  }

  function messageElement(chat, message) {
    const mine = state.me && message.author_id === state.me.id;
    const item = element("li", "message" + (mine ? " mine" : ""));
    if (message.seq !== undefined) item.dataset.seq = String(message.seq);
    if (message.id !== undefined) item.dataset.id = String(message.id);
    const meta = element("div", "meta");
    const author = element("span", "author", authorName(chat, message.author_id));
    author.dataset.author = String(message.author_id);
    meta.appendChild(author);
    meta.appendChild(element("time", "time", shortTime(message.time_stamp)));
    meta.appendChild(element("span", "edited", ""));
    item.appendChild(meta);
    item.appendChild(element("div", "text", ""));
    updateMessageElement(item, message, mine);
    return item;
  }

  function updateMessageElement(item, message, mine) {
    item.classList.toggle("deleted", !!message.deleted);
    item.querySelector(".text").textContent = message.deleted ? "message deleted" : message.content;
    item.querySelector(".edited").textContent = message.edited_at && !message.deleted ? "(edited)" : "";
    const meta = item.querySelector(".meta");
    for (const old of meta.querySelectorAll("button")) old.remove();
    if (mine && !message.deleted && message.id !== undefined) {
      const edit = button("Edit", () => startEdit(item), "small link");
      edit.classList.add("edit");
      const remove = button("Delete", () => {
        send({ command: "delete", chat: state.open, id: Number(item.dataset.id) });
      }, "small link");
      remove.classList.add("delete");
      meta.appendChild(edit);
      meta.appendChild(remove);
    }
  }

  function startEdit(item) {
    if (item.querySelector(".edit-box")) return;
    const box = element("form", "edit-box");
    const input = element("input", "edit-text");
    input.value = item.querySelector(".text").textContent;
    input.maxLength = 4096;
    const save = element("button", "small", "Save");
    save.type = "submit";
    box.appendChild(input);
    box.appendChild(save);
    box.appendChild(button("Cancel", () => box.remove(), "small link"));
    box.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (text) send({ command: "edit", chat: state.open, id: Number(item.dataset.id), message: text });
      box.remove();
    });
    item.appendChild(box);
    input.focus();
  }

  function shortTime(stamp) {
    const date = new Date(String(stamp || "").replace(" ", "T"));
    return isNaN(date) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  /// Puts a message of the open chat in its place by seq (replacing a pending send's element).
  function showMessage(chat, message) {
    if (state.open !== chat.uuid || message.seq === undefined) return;
    const list = $("messages");
    const existing = chat.messages.get(message.seq);
    if (existing) {
      Object.assign(existing.message, message);
      updateMessageElement(existing.element, existing.message, existing.message.author_id === state.me.id);
      return;
    }
    const item = messageElement(chat, message);
    chat.messages.set(message.seq, { message, element: item });
    if (chat.oldest === null || message.seq < chat.oldest) chat.oldest = message.seq;
    const scroller = $("messages-scroll");
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    // Before the first shown message with a greater seq (pending sends stay last).
    let before = null;
    for (const child of list.children) {
      if (child.dataset.seq === undefined || Number(child.dataset.seq) > message.seq) { before = child; break; }
    }
    list.insertBefore(item, before);
    if (atBottom || message.author_id === state.me.id) scroller.scrollTop = scroller.scrollHeight;
  }

  function requestHistory(chat) {
    if (chat.historyPending || !state.socketReady) return;
    chat.historyPending = true;
    const frame = { command: "history", chat: chat.uuid, limit: HISTORY_PAGE };
    if (chat.oldest !== null) frame.before_seq = chat.oldest;
    send(frame);
  }

  $("older").addEventListener("click", () => {
    const chat = state.chats.get(state.open);
    if (chat) requestHistory(chat);
  });
  $("messages-scroll").addEventListener("scroll", () => {
    const chat = state.chats.get(state.open);
    if (chat && chat.more && $("messages-scroll").scrollTop < 20) requestHistory(chat);
  });

  function onHistory(frame) {
    const chat = state.chats.get(frame.chat);
    if (!chat) return;
    chat.historyPending = false;
    if (state.open !== chat.uuid) return;
    const scroller = $("messages-scroll");
    const first = chat.oldest === null;
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    for (const message of frame.messages) showMessage(chat, message);
    chat.more = !!frame.more;
    $("older").hidden = !chat.more;
    // The first page shows the newest; an older page keeps what was on screen in place.
    scroller.scrollTop = first ? scroller.scrollHeight : scroller.scrollHeight - fromBottom;
  }

  function newClientID() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return "web-" + Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendComposed();
  });
  $("composer-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendComposed();
    }
  });
  $("composer-text").addEventListener("input", () => {
    const now = Date.now();
    if (state.open && state.socketReady && now - state.lastTypingSent > TYPING_SEND_EVERY_MS && $("composer-text").value) {
      state.lastTypingSent = now;
      send({ command: "typing", chat: state.open });
    }
  });

  function sendComposed() {
    const input = $("composer-text");
    const text = input.value.trim();
    if (!text || !state.open) return;
    const chat = state.chats.get(state.open);
    const clientID = newClientID();
    const item = messageElement(chat, { author_id: state.me.id, content: text, time_stamp: new Date().toISOString() });
    item.classList.add("pending");
    item.dataset.clientId = clientID;
    state.pending.set(clientID, { chat: chat.uuid, text, element: item });
    $("messages").appendChild(item);
    $("messages-scroll").scrollTop = $("messages-scroll").scrollHeight;
    input.value = "";
    state.lastTypingSent = 0;
    if (state.socketReady) send({ command: "send", chat: chat.uuid, client_id: clientID, message: text });
  }

  /// A send is settled (acknowledged, or seen as a message): its pending element goes.
  function settle(clientID) {
    const pending = state.pending.get(clientID);
    if (!pending) return;
    state.pending.delete(clientID);
    pending.element.remove();
  }

  // ---- the user socket ------------------------------------------------------------------------

  function setConnection(text, online) {
    const node = $("connection");
    node.textContent = text;
    node.classList.toggle("online", !!online);
  }

  function connect() {
    if (!state.token) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(scheme + "//" + location.host + "/ws/?token=" + encodeURIComponent(state.token));
    state.socket = socket;
    state.socketReady = false;
    setConnection("connecting…", false);
    socket.addEventListener("message", (event) => {
      if (socket !== state.socket) return;
      let frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      onFrame(frame);
    });
    socket.addEventListener("close", () => {
      if (socket !== state.socket) return;
      state.socketReady = false;
      state.socket = null;
      if (!state.token) return;
      setConnection("reconnecting…", false);
      state.reconnectTimer = setTimeout(reconnect, state.reconnectDelay);
      state.reconnectDelay = Math.min(state.reconnectDelay * 2, 15000);
    });
  }

  async function reconnect() {
    if (!state.token) return;
    // A refused handshake looks like any drop: ask whether the token still holds (a 401 signs out).
    try { await api("GET", "/api/user/currentuser/"); } catch (failure) { if (failure.status === 401) return; }
    connect();
  }

  function send(frame) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
  }

  async function onHello(frame) {
    const reconnecting = state.hadHello;
    state.hadHello = true;
    state.reconnectDelay = 1000;
    state.online = new Set(frame.online || []);
    const positions = {};
    let unknown = false;
    for (const each of frame.chats) {
      const chat = state.chats.get(each.chat);
      if (!chat) { unknown = true; continue; }
      if (reconnecting && chat.seen !== null) positions[chat.uuid] = chat.seen;
      else chat.seen = each.last_seq;
      chat.lastSeq = Math.max(chat.lastSeq, each.last_seq);
      chat.readSeq = each.read_seq;
      chat.unread = each.unread;
    }
    // Replays what this page missed while the socket was down, exactly once, then goes live.
    if (Object.keys(positions).length) send({ command: "resume", chats: positions });
    state.socketReady = true;
    setConnection("online", true);
    // Sends that were not acknowledged go again with the same client_id: the server stores each once.
    for (const [clientID, pending] of state.pending) send({ command: "send", chat: pending.chat, client_id: clientID, message: pending.text });
    if (unknown) {
      await loadChats();
      for (const chat of state.chats.values()) if (chat.seen === null) chat.seen = chat.lastSeq;
    }
    renderChats();
    const open = state.chats.get(state.open);
    if (open) {
      if (open.oldest === null) requestHistory(open);
      markRead(open);
    }
  }

  function onMessage(frame) {
    const chat = state.chats.get(frame.chat);
    if (!chat) { loadChats(); return; }
    const message = frame.message;
    if (message.client_id && message.author === state.me.uuid) settle(message.client_id);
    chat.seen = Math.max(chat.seen || 0, message.seq);
    // A replayed message (resume) is already counted in hello's unread, but may be the newest.
    if (message.seq >= chat.lastSeq) {
      chat.lastMessage = message.content;
      chat.lastActivity = new Date().toISOString();
    }
    if (message.seq > chat.lastSeq) {
      chat.lastSeq = message.seq;
      if (message.author !== state.me.uuid && state.open !== chat.uuid) chat.unread += 1;
      if (message.author === state.me.uuid) chat.readSeq = Math.max(chat.readSeq, message.seq);
    }
    clearTyping(chat, message.author);
    if (!chat.participants.has(message.author_id)) renameAuthors(chat);
    showMessage(chat, message);
    markRead(chat);
    renderChats();
  }

  function onAck(frame) {
    const chat = state.chats.get(frame.chat);
    const pending = state.pending.get(frame.client_id);
    if (!chat || !pending) return;
    settle(frame.client_id);
    showMessage(chat, { id: frame.id, seq: frame.seq, author_id: state.me.id, content: pending.text, time_stamp: frame.time_stamp, client_id: frame.client_id });
  }

  /// A resume that missed more than the server replays (`truncated`) left a gap between what the
  /// open chat showed and the newest messages: it is shown again from the newest page, and
  /// scrolling back pages through the rest.
  function onResumed(frame) {
    if (frame.truncated && state.open === frame.chat) openChat(frame.chat);
  }

  function onTyping(frame) {
    const chat = state.chats.get(frame.chat);
    if (!chat || frame.user === state.me.uuid) return;
    clearTimeout(chat.typing.get(frame.user));
    chat.typing.set(frame.user, setTimeout(() => clearTyping(chat, frame.user), TYPING_SHOWN_MS));
    renderTyping();
  }

  function clearTyping(chat, userUUID) {
    if (!chat.typing.has(userUUID)) return;
    clearTimeout(chat.typing.get(userUUID));
    chat.typing.delete(userUUID);
    renderTyping();
  }

  function renderTyping() {
    const chat = state.chats.get(state.open);
    const names = chat ? Array.from(chat.typing.keys(), (uuid) => (state.users.get(uuid) || { username: "someone" }).username) : [];
    $("typing").textContent = names.length ? names.join(", ") + (names.length > 1 ? " are" : " is") + " typing…" : "";
  }

  function onChange(frame, changes) {
    const chat = state.chats.get(frame.chat);
    if (!chat) return;
    const shown = chat.messages.get(frame.seq);
    if (shown) showMessage(chat, Object.assign({}, shown.message, changes));
    if (frame.seq === chat.lastSeq) {
      chat.lastMessage = changes.deleted ? "" : changes.content;
      renderChats();
    }
  }

  function onRead(frame) {
    const chat = state.chats.get(frame.chat);
    if (!chat || frame.user !== state.me.uuid) return;
    // This user read the chat on another device.
    chat.readSeq = Math.max(chat.readSeq, frame.seq);
    if (chat.readSeq >= chat.lastSeq && chat.unread) {
      chat.unread = 0;
      renderChats();
    }
  }

  async function onChatEvent(frame) {
    if (frame.event === "removed") {
      state.chats.delete(frame.chat.uuid);
      if (state.open === frame.chat.uuid) closeChat();
      renderChats();
      return;
    }
    const chat = await addChat(frame.chat);
    if (chat.seen === null) chat.seen = chat.lastSeq;
    if (state.open === chat.uuid) {
      $("chat-title").textContent = chat.title;
      renameAuthors(chat);
      showMemberForm(chat);
    }
  }

  function onPresence(frame) {
    if (frame.online) state.online.add(frame.user);
    else state.online.delete(frame.user);
    renderChats();
  }

  function onError(frame) {
    if (frame.client_id && state.pending.has(frame.client_id)) {
      const pending = state.pending.get(frame.client_id);
      state.pending.delete(frame.client_id);
      pending.element.classList.add("failed");
      pending.element.querySelector(".edited").textContent = "not sent: " + frame.error;
    } else if (frame.chat && state.chats.has(frame.chat)) {
      state.chats.get(frame.chat).historyPending = false;
    }
  }

  function onFrame(frame) {
    switch (frame.command) {
      case "hello": onHello(frame); break;
      case "message": onMessage(frame); break;
      case "ack": onAck(frame); break;
      case "history": onHistory(frame); break;
      case "typing": onTyping(frame); break;
      case "edited": onChange(frame, { content: frame.content, edited_at: frame.edited_at }); break;
      case "deleted": onChange(frame, { content: "", deleted: true }); break;
      case "read": onRead(frame); break;
      case "chat": onChatEvent(frame); break;
      case "presence": onPresence(frame); break;
      case "error": onError(frame); break;
      case "resumed": onResumed(frame); break;
      default: break; // pong: nothing to show
    }
  }

  // ---- start ----------------------------------------------------------------------------------

  const google = googleAnswer();
  if (google) {
    signInWithGoogle(google).catch((failure) => {
      showAuth();
      $("google-error").textContent = failure.message;
    });
  } else if (state.token) {
    signedIn(state.token).catch(() => signOutLocally());
  } else {
    showAuth();
  }
  offerGoogle();
})();
