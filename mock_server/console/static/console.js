// The capmock console: everything it shows comes from the documented admin API
// (openapi/admin.yaml), called relative to this page, so a script can do the same.
"use strict";

const API = new URL("../", location.href); // this page is /__admin/console/
const TOKEN_KEY = "capmock.adminToken";
const SESSIONS_KEY = "capmock.sessions";
const POLL_MS = 1000;
const PAGE = 100; // entries asked for on each poll
const SHOWN = 500; // rows kept on the page
const LEDGER_REQUESTS = 1000; // journal entries searched for a ledger entry's request
const FAULTS_EVERY = 5; // polls between two readings of the faults (their counts, their end)

const state = {
  session: "",
  filters: {},
  rows: new Map(), // request id -> {entry, row}
  generation: 0, // bumped when the filters change: older answers are ignored
  selected: null,
  customer: null, // the userId shown in the customer panel
  polls: 0,
};

const $ = (selector) => document.querySelector(selector);

function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

class AdminError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function admin(method, path, { query, body, session } = {}) {
  const url = new URL(path, API);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(name, value);
  }
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["X-CAPMOCK-ADMIN-TOKEN"] = token;
  if (session) headers["X-Capmock-Session"] = session;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new AdminError(0, null, `the mock does not answer (${error.message})`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const first = data && Array.isArray(data.errors) ? data.errors[0] : null;
    const message = first ? first.message : `${response.status}: ${text.slice(0, 200)}`;
    throw new AdminError(response.status, first ? first.code : null, message);
  }
  return data;
}

function notify(error) {
  const notice = $("#notice");
  if (!error) {
    notice.hidden = true;
    return;
  }
  const needsToken = error.code === 9117;
  notice.textContent = needsToken
    ? "This mock needs its admin token: type it above (it is kept in this tab only)."
    : error.message;
  notice.className = needsToken ? "token" : "";
  notice.hidden = false;
  if (needsToken) $("#token").focus();
}

async function attempt(work) {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof AdminError)) throw error;
    notify(error);
  }
}

// ---- what an entry says ------------------------------------------------------------

function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function amountOf(entry) {
  const body = entry.body ? parsed(entry.body) : null;
  if (!body || typeof body !== "object") return "";
  if (body.alternateCurrencyName !== undefined) {
    return `${body.valueToBeAdjusted ?? "?"} ${body.alternateCurrencyName}`;
  }
  return body.pointsToBeAdjusted !== undefined ? String(body.pointsToBeAdjusted) : "";
}

function customerOf(entry) {
  if (entry.userId !== null && entry.userId !== undefined) return String(entry.userId);
  const query = new URLSearchParams(entry.query || "");
  const name = query.get("identifierName");
  const value = query.get("identifierValue");
  return name && value ? `${name} ${value}` : "";
}

function clock(iso) {
  // Local time; the milliseconds are dropped on a narrow screen.
  const moment = new Date(iso);
  const pad = (number, width = 2) => String(number).padStart(width, "0");
  return [
    `${pad(moment.getHours())}:${pad(moment.getMinutes())}:${pad(moment.getSeconds())}`,
    h("span", { class: "ms" }, `.${pad(moment.getMilliseconds(), 3)}`),
  ];
}

function statusClass(status) {
  if (status >= 500 || status === 0) return "status bad";
  return status >= 400 ? "status refused" : "status ok";
}

// ---- the stream --------------------------------------------------------------------

function row(entry) {
  const who = customerOf(entry);
  return h(
    "tr",
    {
      "data-id": entry.id,
      tabindex: 0,
      class: "fresh",
      onanimationend: (event) => event.currentTarget.classList.remove("fresh"),
      onclick: () => openEntry(entry.id),
      onkeydown: (event) => event.key === "Enter" && openEntry(entry.id),
    },
    h("td", { title: entry.time }, clock(entry.time)),
    h("td", { class: "wide" }, entry.operation || `${entry.method} ${entry.path}`),
    h(
      "td",
      {},
      who || "—",
      entry.session && !state.session ? h("span", { class: "tag", title: "session" }, entry.session) : null,
    ),
    h("td", { class: "wide" }, entry.source || "—"),
    h("td", { class: "num" }, amountOf(entry)),
    h("td", {}, h("span", { class: statusClass(entry.status) }, entry.status)),
    h(
      "td",
      {},
      entry.code ?? "",
      entry.fault ? h("span", { class: "tag fault", title: "the fault that acted" }, `fault ${entry.fault}`) : null,
    ),
  );
}

function journalQuery() {
  return { limit: PAGE, session: state.session, ...state.filters };
}

async function poll() {
  const generation = state.generation;
  if (!document.hidden) {
    try {
      const page = await admin("GET", "requests", { query: journalQuery() });
      if (generation === state.generation) {
        notify(null);
        merge(page);
      }
      state.polls += 1;
      if (state.polls % FAULTS_EVERY === 0) await listFaults();
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
      $("#stream-state").textContent = "stopped";
      notify(error);
    }
  } else {
    $("#stream-state").textContent = "paused while this tab is hidden";
  }
  setTimeout(poll, POLL_MS);
}

function merge(page) {
  // Every poll asks for the newest answers (the journal lists them in the order they
  // were answered) and adds those not shown yet: a request held by a delay, answered
  // after newer ones, still appears.
  const added = [];
  for (const entry of page.requests) {
    if (!state.rows.has(entry.id)) {
      state.rows.set(entry.id, { entry, row: row(entry) });
      added.push(entry);
    }
  }
  const ids = [...state.rows.keys()].sort().reverse();
  for (const id of ids.slice(SHOWN)) state.rows.delete(id);
  if (added.length) {
    $("#stream tbody").replaceChildren(...ids.slice(0, SHOWN).map((id) => state.rows.get(id).row));
    afterNewRequests(added);
  }
  $("#stream-empty").hidden = state.rows.size > 0;
  $("#stream-state").textContent =
    `live · ${state.rows.size} shown · ${page.matched} matching of ${page.kept} kept` +
    (page.dropped ? ` · ${page.dropped} dropped by the ring` : "");
}

function restartStream() {
  state.generation += 1;
  state.rows.clear();
  $("#stream tbody").replaceChildren();
  $("#stream-empty").hidden = false;
}

function afterNewRequests(added) {
  for (const entry of added) {
    if (entry.session && !knownSessions().includes(entry.session)) remember(entry.session);
  }
  if (state.customer && added.some((entry) => String(entry.userId) === state.customer)) {
    attempt(() => showCustomer(state.customer));
  }
  if (added.some((entry) => entry.fault)) attempt(listFaults);
}

// ---- one entry ---------------------------------------------------------------------

function pretty(text) {
  const value = parsed(text);
  return value === null ? text : JSON.stringify(value, null, 2);
}

function quoted(text) {
  return `'${String(text).replaceAll("'", "'\\''")}'`;
}

const NOT_RESENT = new Set(["host", "content-length", "connection", "transfer-encoding"]);

function curl(entry) {
  const target = `${location.origin}${entry.path}${entry.query ? `?${entry.query}` : ""}`;
  const lines = [`curl -X ${entry.method} ${quoted(target)}`];
  for (const [name, value] of Object.entries(entry.headers)) {
    if (!NOT_RESENT.has(name)) lines.push(`  -H ${quoted(`${name}: ${value}`)}`);
  }
  let command;
  if (entry.bodyBase64) {
    lines.push("  --data-binary @-");
    command = `printf %s ${quoted(entry.bodyBase64)} | base64 -d | ${lines.join(" \\\n")}`;
  } else {
    if (entry.body) lines.push(`  --data-raw ${quoted(entry.body)}`);
    command = lines.join(" \\\n");
  }
  const hidden = Object.values(entry.headers).some((value) => value.includes("***"));
  return hidden ? `# the journal hides credentials: put yours where it shows ***\n${command}` : command;
}

async function copyCurl(entry, button) {
  const text = curl(entry);
  const shown = $("#entry .curl");
  shown.textContent = text;
  shown.hidden = false;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    getSelection().selectAllChildren(shown);
    button.textContent = "Selected: copy it";
  }
}

function fields(pairs) {
  return h(
    "dl",
    { class: "fields" },
    pairs.filter(([, value]) => value !== null && value !== undefined && value !== "").map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]),
  );
}

async function openEntry(id) {
  await attempt(async () => {
    const entry = await admin("GET", `requests/${encodeURIComponent(id)}`);
    state.selected = id;
    for (const { row: tr } of state.rows.values()) tr.classList.toggle("selected", tr.dataset.id === id);
    const copy = h("button", { type: "button", onclick: (event) => copyCurl(entry, event.target) }, "Copy as curl");
    const user = customerOf(entry);
    $("#entry").replaceChildren(
      h("p", { class: "request-line" }, `${entry.method} ${entry.path}${entry.query ? `?${entry.query}` : ""}`),
      h("p", { class: `explanation ${entry.outcome}` }, entry.explanation || "No rule decided this answer (the request did not reach one)."),
      fields([
        ["status", h("span", { class: statusClass(entry.status) }, entry.status)],
        ["code", entry.code],
        ["rule", entry.rule],
        ["outcome", entry.outcome],
        ["operation", entry.operation],
        ["customer", entry.userId ? link(user, () => lookUp(String(entry.userId))) : user],
        ["source", entry.source],
        ["session", entry.session],
        ["fault", entry.fault],
        ["time", entry.time],
        ["duration", `${entry.durationMs} ms`],
        ["request id", entry.id],
      ]),
      h("div", { class: "actions" }, copy),
      h("pre", { class: "curl", hidden: true }),
      h("h3", {}, "Request headers (credentials hidden)"),
      h(
        "table",
        { class: "headers" },
        h("tbody", {}, Object.entries(entry.headers).map(([name, value]) => h("tr", {}, h("th", {}, name), h("td", {}, value)))),
      ),
      h("h3", {}, "Request body"),
      h("pre", { class: "body" }, entry.body !== null ? pretty(entry.body) : `(not UTF-8, base64) ${entry.bodyBase64}`),
      h("h3", {}, `Response ${entry.status}`),
      h("pre", { class: "response" }, pretty(entry.response)),
    );
    if (matchMedia("(max-width: 899px)").matches) $("#entry-panel").scrollIntoView();
  });
}

// ---- customers ---------------------------------------------------------------------

async function findByIdentifier(key) {
  // The admin API finds customers by userId; an identifier (mobile, email, externalId)
  // is looked up in the fixtures the mock serves.
  const fixtures = await admin("GET", "fixtures");
  for (const customer of fixtures.customers || []) {
    for (const names of Object.values(customer.identifiers || {})) {
      if (Object.values(names).map(String).includes(key)) return String(customer.userId);
    }
  }
  return null;
}

async function lookUp(key) {
  $("#customer-key").value = key;
  await attempt(async () => {
    let userId = /^[0-9]{1,19}$/.test(key) ? key : null;
    if (userId) {
      try {
        return await showCustomer(userId);
      } catch (error) {
        if (!(error instanceof AdminError) || error.code !== 9111) throw error;
      }
    }
    userId = await findByIdentifier(key);
    if (userId === null) {
      state.customer = null;
      $("#customer").replaceChildren(h("p", { class: "hint" }, `No customer has the userId or identifier ${key}.`));
      return;
    }
    await showCustomer(userId);
  });
  if (matchMedia("(max-width: 899px)").matches) $("#customer-panel").scrollIntoView();
}

function inWindow(entry, time) {
  // An entry's time is when its request arrived (to the millisecond); the ledger's is
  // when the change was written, before the answer left.
  const start = Date.parse(entry.time);
  const at = Date.parse(time);
  return at >= start && at <= start + 1 + entry.durationMs;
}

function requestOf(change, requests) {
  return requests.find(
    (entry) =>
      (entry.session || "") === state.session &&
      (entry.source === null || entry.source === change.source) &&
      inWindow(entry, change.time),
  );
}

function table(className, headings, rows) {
  // headings: [text, class] pairs; rows: arrays of cells, each a [content, class] pair
  const cell = (tag) => ([content, cellClass]) => h(tag, { class: cellClass }, content);
  return h(
    "div",
    { class: "scroll-x" },
    h(
      "table",
      { class: className },
      h("thead", {}, h("tr", {}, headings.map(cell("th")))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map(cell("td"))))),
    ),
  );
}

function link(text, open) {
  const opened = (event) => {
    event.preventDefault();
    open();
  };
  return h("a", { href: "#", onclick: opened }, text);
}

function ledgerTable(ledger, requests) {
  return table(
    "ledger",
    [["Time", "wide"], ["Change"], ["Amount", "num"], ["Balance after", "num"], ["Request"]],
    ledger.map((change) => {
      const request = requestOf(change, requests);
      const sign = change.direction === "CREDIT" ? "+" : "−";
      const what = `${sign} ${change.name} (${change.kind}, program ${change.programId})`;
      return [
        [clock(change.time), "wide"],
        [`${what} · ${change.source} · ${change.reason}`],
        [change.amount, "num"],
        [change.balanceAfter, "num"],
        [
          request
            ? link("open", () => openEntry(request.id))
            : h("span", { class: "hint", title: "not in the journal any more" }, "—"),
        ],
      ];
    }),
  );
}

async function showCustomer(userId) {
  const session = state.session;
  const customer = await admin("GET", `customers/${userId}`, { session });
  const page = await admin("GET", "requests", {
    query: { status: 200, limit: LEDGER_REQUESTS, session },
  });
  if (session !== state.session) return;
  state.customer = userId;
  const identifiers = Object.entries(customer.identifiers || {}).flatMap(([source, names]) =>
    Object.entries(names).map(([name, value]) => `${source} ${name} ${value}`),
  );
  const ledger = [...customer.ledger].reverse();
  const where = session ? ` in session ${session}` : "";
  const shown = [
    h("p", { class: "customer-line" }, `Customer ${customer.userId}${where} · registered in ${customer.sources.join(", ")}`),
    identifiers.length ? h("p", { class: "hint" }, identifiers.join(" · ")) : null,
    h("h3", {}, "Balances"),
    table(
      "balances",
      [["Program"], ["Kind"], ["Name"], ["Balance", "num"]],
      customer.balances.map((balance) => [
        [balance.programId],
        [balance.kind],
        [balance.name],
        [balance.balance, "num"],
      ]),
    ),
    h("h3", {}, `Ledger, newest first (${ledger.length})`),
    ledger.length
      ? ledgerTable(ledger, page.requests)
      : h("p", { class: "hint" }, "No change since the fixtures were loaded or last reset."),
  ];
  $("#customer").replaceChildren(...shown.filter(Boolean));
}

// ---- sessions ----------------------------------------------------------------------

function knownSessions() {
  return JSON.parse(sessionStorage.getItem(SESSIONS_KEY) || "[]");
}

function remember(id) {
  const known = knownSessions();
  if (!known.includes(id)) sessionStorage.setItem(SESSIONS_KEY, JSON.stringify([...known, id]));
  renderSessions();
}

function forget(id) {
  sessionStorage.setItem(SESSIONS_KEY, JSON.stringify(knownSessions().filter((known) => known !== id)));
  renderSessions();
}

function renderSessions() {
  const select = $("#session");
  const options = [select.options[0], ...knownSessions().map((id) => h("option", { value: id }, `session ${id}`))];
  select.replaceChildren(...options);
  select.value = state.session;
  $("#end-session").hidden = !state.session;
  $("#fault-scope").textContent = state.session
    ? `Session ${state.session}'s faults: they act only on its calls.`
    : "Every fault; a new one acts on every session's calls.";
}

function pickSession(id) {
  state.session = id;
  renderSessions();
  restartStream();
  attempt(listFaults);
  if (state.customer) attempt(() => showCustomer(state.customer));
}

// ---- faults ------------------------------------------------------------------------

const VALUE_LABELS = {
  code: ["Code", "8907"],
  status: ["HTTP status", "503"],
  delay: ["Milliseconds (or min-max)", "200-800"],
  timeout: ["Give up after ms", "60000"],
  malformed: ["Kind (truncated or html)", "truncated"],
};

function describeAction(action) {
  if (action.type === "code") return `answers code ${action.code}`;
  if (action.type === "status") return `answers HTTP ${action.status}`;
  if (action.type === "delay") return `delays ${describeDelay(action)}`;
  if (action.type === "timeout") return `never answers${action.ms ? ` (closes after ${action.ms} ms)` : ""}`;
  if (action.type === "reset") return "resets the connection";
  if (action.type === "empty") return "closes without an answer";
  return `answers malformed JSON (${action.kind || "truncated"})`;
}

function describeMatch(match) {
  const parts = Object.entries(match).map(([name, value]) =>
    typeof value === "object" ? `${name} ${JSON.stringify(value)}` : `${name} ${value}`,
  );
  return parts.length ? `when ${parts.join(", ")}` : "every call";
}

async function listFaults() {
  const listed = await admin("GET", "faults", { session: state.session });
  $("#faults").replaceChildren(
    ...(listed.faults.length
      ? listed.faults.map((fault) =>
          h(
            "li",
            { "data-id": fault.id },
            h("strong", {}, fault.id),
            ` ${describeAction(fault.action)} · ${fault.phase}`,
            ` · ${describeMatch(fault.match)}`,
            fault.times ? ` · ${fault.matched} of ${fault.times} times` : ` · matched ${fault.matched}`,
            fault.probability < 1 ? ` · p ${fault.probability}` : "",
            " ",
            h("button", { type: "button", onclick: () => attempt(() => removeFault(fault.id)) }, "Remove"),
          ),
        )
      : [h("li", { class: "hint" }, "No fault in force: every call is answered as the rules say.")]),
  );
}

async function removeFault(id) {
  await admin("DELETE", `faults/${encodeURIComponent(id)}`, { session: state.session });
  await listFaults();
}

function faultAction(type, value) {
  value = value.trim();
  if (type === "code") return { type, code: Number(value) };
  if (type === "status") return { type, status: Number(value) };
  if (type === "delay") return { type, ms: milliseconds(value) };
  if (type === "timeout") return value ? { type, ms: Number(value) } : { type };
  if (type === "malformed") return value ? { type, kind: value } : { type };
  return { type };
}

async function addFault(form) {
  const data = new FormData(form);
  const match = {};
  if (data.get("userId")) match.userId = Number(data.get("userId"));
  if (data.get("operation")) match.operation = data.get("operation");
  const fault = { match, action: faultAction(data.get("type"), data.get("value")), phase: data.get("phase") };
  if (data.get("times")) fault.times = Number(data.get("times"));
  if (data.get("probability")) fault.probability = Number(data.get("probability"));
  await admin("POST", "faults", { body: fault, session: state.session });
  notify(null);
  await listFaults();
}

function showValueField() {
  const type = $("#fault-form [name=type]").value;
  const label = $("#fault-value-label");
  const known = VALUE_LABELS[type];
  label.hidden = !known;
  if (known) {
    label.querySelector("span").textContent = known[0];
    label.querySelector("input").placeholder = known[1];
  }
}

function milliseconds(text) {
  const range = text.split("-").map((part) => Number(part.trim()));
  return range.length === 2 ? range : range[0];
}

function describeDelay(delay) {
  if (delay.ms === undefined) return `log-normal, median ${delay.median} ms, sigma ${delay.sigma}`;
  return Array.isArray(delay.ms) ? `${delay.ms[0]}-${delay.ms[1]} ms` : `${delay.ms} ms`;
}

async function showLatency(view) {
  const shown = view || (await admin("GET", "latency"));
  $("#latency").textContent = shown.latency ? describeDelay(shown.latency) : "none";
}

// ---- reset -------------------------------------------------------------------------

function askReset() {
  $("#reset-what").textContent = state.session
    ? `Reset session ${state.session}: its balances and ledgers back to its fixtures, and its journal emptied.`
    : "Reset the default world: every balance and ledger back to the fixtures. Sessions and the journal stay.";
  $("#reset-dialog").showModal();
}

async function reset() {
  if (state.session) {
    await admin("POST", `sessions/${encodeURIComponent(state.session)}/reset`);
    restartStream();
  } else {
    await admin("POST", "reset");
  }
  notify(null);
  if (state.customer) await showCustomer(state.customer);
}

// ---- wiring ------------------------------------------------------------------------

function start() {
  $("#token").value = sessionStorage.getItem(TOKEN_KEY) || "";
  $("#token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("#token").value;
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    notify(null);
    restartStream();
    attempt(listFaults);
  });
  $("#session").addEventListener("change", (event) => pickSession(event.target.value));
  $("#new-session").addEventListener("click", () =>
    attempt(async () => {
      const made = await admin("POST", "sessions", { body: {} });
      remember(made.id);
      pickSession(made.id);
    }),
  );
  $("#end-session").addEventListener("click", () =>
    attempt(async () => {
      const id = state.session;
      await admin("DELETE", `sessions/${encodeURIComponent(id)}`);
      forget(id);
      pickSession("");
    }),
  );
  const filters = $("#filters");
  const applyFilters = () => {
    const data = new FormData(filters);
    state.filters = Object.fromEntries([...data.entries()].filter(([, value]) => value !== ""));
    restartStream();
  };
  filters.addEventListener("change", applyFilters);
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    applyFilters();
  });
  filters.addEventListener("reset", () => setTimeout(applyFilters));
  $("#customer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    lookUp($("#customer-key").value.trim());
  });
  $("#fault-form [name=type]").addEventListener("change", showValueField);
  $("#fault-form").addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(() => addFault(event.target));
  });
  $("#clear-faults").addEventListener("click", () =>
    attempt(async () => {
      await admin("DELETE", "faults", { session: state.session });
      await listFaults();
    }),
  );
  $("#latency-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const ms = milliseconds(new FormData(event.target).get("ms"));
    attempt(async () => showLatency(await admin("PUT", "latency", { body: { ms } })));
  });
  $("#clear-latency").addEventListener("click", () =>
    attempt(async () => showLatency(await admin("DELETE", "latency"))),
  );
  $("#reset").addEventListener("click", askReset);
  $("#reset-dialog").addEventListener("close", () => {
    if ($("#reset-dialog").returnValue === "reset") attempt(reset);
  });
  renderSessions();
  showValueField();
  attempt(listFaults);
  attempt(() => showLatency());
  poll();
}

start();
