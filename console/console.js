// The chat service's web console: plain DOM, no framework, no build. Talks to the API of the same origin.
// User text is only ever set as textContent (never parsed as HTML).
const $ = (id) => document.getElementById(id);
const PAGE = 50;
const state = { token: null, chat: null, first: 0, last: 0, rows: new Map(), source: null, chatsNext: null };

function say(text) { $('status').textContent = text; }

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET') init.headers['idempotency-key'] = crypto.randomUUID();
  const res = await fetch(path, init);
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new Error(data && data.message ? `${res.status}: ${data.message}` : `HTTP ${res.status}`);
  const link = res.headers.get('link');
  const next = link && /<([^>]+)>;\s*rel="next"/.exec(link);
  return { data, next: next ? next[1] : null };
}

const base = () => `/applications/${encodeURIComponent(state.token)}`;
const chatBase = () => `${base()}/chats/${state.chat}`;

function setHash() {
  const parts = [];
  if (state.token) parts.push(`app=${encodeURIComponent(state.token)}`);
  if (state.chat) parts.push(`chat=${state.chat}`);
  history.replaceState(null, '', `#${parts.join('&')}`);
}

// ---- applications and chats

async function openApp(token) {
  try {
    const { data } = await api('GET', `/applications/${encodeURIComponent(token)}`);
    closeChat();
    state.token = data.token;
    $('token').value = data.token;
    $('app-name-view').textContent = data.name;
    $('app-token-view').textContent = data.token;
    $('app-info').hidden = false;
    $('chats').replaceChildren();
    state.chatsNext = `${base()}/chats?limit=100`;
    await moreChats();
    setHash();
    say(`Application "${data.name}" opened.`);
  } catch (err) {
    say(`Could not open the application: ${err.message}`);
  }
}

async function moreChats() {
  if (!state.chatsNext) return;
  const { data, next } = await api('GET', state.chatsNext);
  for (const chat of data) addChat(chat);
  state.chatsNext = next;
  $('more-chats').hidden = !next;
}

function addChat(chat) {
  const li = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.dataset.number = String(chat.number);
  button.textContent = `#${chat.number} ${chat.name ?? '(no name)'}`;
  button.addEventListener('click', () => openChat(chat.number));
  li.append(button);
  $('chats').append(li);
}

// ---- one chat: history, live stream, send, edit

function closeChat() {
  if (state.source) state.source.close();
  state.source = null;
  state.chat = null;
  state.rows.clear();
  $('messages').replaceChildren();
  $('chat-panel').hidden = true;
  $('live-state').textContent = 'closed';
}

async function openChat(number) {
  closeChat();
  try {
    const { data: chat } = await api('GET', `${base()}/chats/${number}`);
    state.chat = chat.number;
    $('chat-title').textContent = `Chat #${chat.number} ${chat.name ?? ''}`;
    for (const b of $('chats').querySelectorAll('button')) b.setAttribute('aria-current', String(b.dataset.number === String(chat.number)));
    $('chat-panel').hidden = false;
    clearSearch();
    // the latest page: messages_count may lag (counters are eventually consistent), so the pages after it are
    // followed to the end and only the last PAGE messages are shown
    const after = Math.max(0, chat.messages_count - PAGE);
    const loaded = [];
    let url = `${chatBase()}/messages?limit=${PAGE}&after=${after}`;
    while (url) {
      const { data, next } = await api('GET', url);
      loaded.push(...data);
      url = next;
    }
    const latest = loaded.slice(-PAGE);
    for (const m of latest) showMessage(m);
    state.first = latest.length > 0 ? latest[0].number : after + 1;
    $('older').hidden = state.first <= 1;
    setHash();
    listen();
    say(`Chat #${chat.number} opened.`);
    $('body').focus();
  } catch (err) {
    say(`Could not open the chat: ${err.message}`);
  }
}

async function older() {
  const upTo = state.first - 1;
  if (upTo < 1) return;
  const after = Math.max(0, upTo - PAGE);
  const { data } = await api('GET', `${chatBase()}/messages?limit=${upTo - after}&after=${after}`);
  for (const m of data) showMessage(m);
  state.first = after + 1;
  $('older').hidden = state.first <= 1;
  say(`${data.length} older messages loaded.`);
}

function listen() {
  const url = `${chatBase()}/messages/stream?after=${state.last}`;
  const source = new EventSource(url);
  state.source = source;
  source.addEventListener('open', () => { $('live-state').textContent = 'connected'; });
  source.addEventListener('error', () => { $('live-state').textContent = source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting…'; });
  source.addEventListener('message.created', (e) => showMessage(JSON.parse(e.data)));
  source.addEventListener('message.updated', (e) => showMessage(JSON.parse(e.data)));
}

/** Adds a message in number order, or updates it in place (edits, or the 201 and the stream both bringing it). */
function showMessage(m) {
  state.last = Math.max(state.last, m.number);
  let li = state.rows.get(m.number);
  if (li) {
    if (li.dataset.updatedAt && li.dataset.updatedAt > m.updated_at) return;
    renderMessage(li, m);
    return;
  }
  li = document.createElement('li');
  li.id = `m${m.number}`;
  renderMessage(li, m);
  state.rows.set(m.number, li);
  const later = [...state.rows.keys()].filter((n) => n > m.number).sort((a, b) => a - b)[0];
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  if (later !== undefined) list.insertBefore(li, state.rows.get(later));
  else list.append(li);
  if (atBottom && later === undefined) list.scrollTop = list.scrollHeight;
}

function renderMessage(li, m) {
  li.dataset.updatedAt = m.updated_at;
  const num = document.createElement('span');
  num.className = 'num';
  num.textContent = `#${m.number}`;
  const body = document.createElement('span');
  body.className = 'body';
  body.textContent = m.body;
  const edit = document.createElement('button');
  edit.type = 'button';
  edit.className = 'link';
  edit.textContent = 'Edit';
  edit.setAttribute('aria-label', `Edit message ${m.number}`);
  edit.addEventListener('click', () => editMessage(li, m));
  li.replaceChildren(num, body);
  if (m.updated_at !== m.created_at) {
    const edited = document.createElement('span');
    edited.className = 'edited';
    edited.textContent = '(edited)';
    li.append(edited);
  }
  li.append(edit);
}

function editMessage(li, m) {
  const form = document.createElement('form');
  const label = document.createElement('label');
  label.htmlFor = `edit-${m.number}`;
  label.textContent = `Edit message #${m.number}`;
  const input = document.createElement('input');
  input.id = `edit-${m.number}`;
  input.value = m.body;
  input.required = true;
  const save = document.createElement('button');
  save.type = 'submit';
  save.textContent = 'Save';
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.textContent = 'Cancel';
  const row = document.createElement('div');
  row.className = 'row';
  row.append(input, save, cancel);
  form.append(label, row);
  const done = (message) => { renderMessage(li, message); li.querySelector('button').focus(); };
  cancel.addEventListener('click', () => done(m));
  form.addEventListener('keydown', (e) => { if (e.key === 'Escape') done(m); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const { data } = await api('PUT', `${chatBase()}/messages/${m.number}`, { body: input.value });
      done(data);
      say(`Message #${m.number} edited.`);
    } catch (err) {
      say(`Could not edit: ${err.message}`);
    }
  });
  li.replaceChildren(form);
  input.focus();
}

async function send(e) {
  e.preventDefault();
  const body = $('body').value;
  if (!body) return;
  try {
    const { data } = await api('POST', `${chatBase()}/messages`, { body });
    $('body').value = '';
    showMessage(data);
    say(`Message #${data.number} sent.`);
  } catch (err) {
    say(`Could not send: ${err.message}`);
  }
}

// ---- search, matches highlighted

function highlight(text, query) {
  const out = document.createDocumentFragment();
  const lower = text.toLowerCase();
  const q = query.toLowerCase();
  // offsets of the lower-cased text are the original's only when lower-casing kept the length
  if (lower.length !== text.length || q.length === 0) {
    out.append(text);
    return out;
  }
  let at = 0;
  for (let i = lower.indexOf(q); i >= 0; i = lower.indexOf(q, i + q.length)) {
    out.append(text.slice(at, i));
    const mark = document.createElement('mark');
    mark.textContent = text.slice(i, i + q.length);
    out.append(mark);
    at = i + q.length;
  }
  out.append(text.slice(at));
  return out;
}

async function search(e) {
  e.preventDefault();
  const query = $('query').value;
  if (!query) return;
  try {
    const { data } = await api('GET', `${chatBase()}/messages/search?limit=100&query=${encodeURIComponent(query)}`);
    const list = $('matches');
    list.replaceChildren();
    for (const m of data) {
      const li = document.createElement('li');
      const num = document.createElement('a');
      num.className = 'num';
      num.href = `#m${m.number}`;
      num.textContent = `#${m.number}`;
      li.append(num, highlight(m.body, query));
      list.append(li);
    }
    $('search-results').hidden = false;
    $('clear-search').hidden = false;
    say(`${data.length} message${data.length === 1 ? '' : 's'} match "${query}".`);
  } catch (err) {
    say(`Could not search: ${err.message}`);
  }
}

function clearSearch() {
  $('matches').replaceChildren();
  $('search-results').hidden = true;
  $('clear-search').hidden = true;
}

// ---- wiring

$('open-app').addEventListener('submit', (e) => { e.preventDefault(); void openApp($('token').value.trim()); });
$('create-app').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const { data } = await api('POST', '/applications', { name: $('app-name').value });
    $('app-name').value = '';
    await openApp(data.token);
  } catch (err) {
    say(`Could not create the application: ${err.message}`);
  }
});
$('create-chat').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const name = $('chat-name').value.trim();
    const { data } = await api('POST', `${base()}/chats`, name ? { name } : {});
    $('chat-name').value = '';
    addChat(data);
    await openChat(data.number);
  } catch (err) {
    say(`Could not create the chat: ${err.message}`);
  }
});
$('more-chats').addEventListener('click', () => void moreChats());
$('older').addEventListener('click', () => void older());
$('send').addEventListener('submit', send);
$('body').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) {
    e.preventDefault();
    $('send').requestSubmit();
  }
});
$('search').addEventListener('submit', search);
$('clear-search').addEventListener('click', clearSearch);

const params = new URLSearchParams(location.hash.slice(1));
if (params.get('app')) {
  void openApp(params.get('app')).then(() => {
    const chat = Number(params.get('chat'));
    if (Number.isInteger(chat) && chat > 0) void openChat(chat);
  });
}
