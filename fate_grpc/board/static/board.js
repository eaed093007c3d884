// The board's page: a job list, a job's DAG with live task states, and a task's details.
// Everything shown comes from the node's /board/api/ (the user API's answers); nothing is computed
// here beyond drawing. Text from the node is always set as text, never parsed as HTML.
/* global echarts */

const TOKEN_KEY = "fate-grpc-board-token";
const PAGE_SIZE = 20;
const STATE_COLOURS = {
  success: "#2e9d5b", running: "#3b82f6", waiting: "#9ca3af", failed: "#dc2626",
  canceled: "#d97706", timeout: "#9333ea", pass: "#65a30d",
};

// What a test (or a curious user's console) can inspect: chart instances by id, the DAG's instance.
window.board = { charts: {}, dag: null, states: {}, live: "" };

const $ = (id) => document.getElementById(id);
let jobsOffset = 0;
let watching = null; // {jobId, controller}

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.hint = body && body.hint;
  }
}

async function api(path) {
  const response = await fetch(`api/${path}`, { headers: authHeaders() });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function enc(text) { return encodeURIComponent(text); }

function showMessage(error) {
  const box = $("message");
  if (!error) { box.hidden = true; return; }
  box.textContent = error.hint ? `${error.message}\n${error.hint}` : error.message;
  box.hidden = false;
  if (error.status === 401) $("token-form").hidden = false;
}

function cell(row, value, className) {
  const td = row.insertCell();
  if (value instanceof Node) td.append(value); else td.textContent = value ?? "";
  if (className) td.className = className;
  return td;
}

function statusBadge(status) {
  const span = document.createElement("span");
  span.className = `status ${status}`;
  span.textContent = status;
  return span;
}

function link(text, href) {
  const a = document.createElement("a");
  a.textContent = text;
  a.href = href;
  return a;
}

function time(ms) { return ms ? new Date(Number(ms)).toLocaleString() : ""; }
function seconds(ms) { return ms ? `${(Number(ms) / 1000).toFixed(1)} s` : ""; }

// -- job list --------------------------------------------------------------------------------------
async function showJobs() {
  const filters = new FormData($("job-filters"));
  const query = new URLSearchParams({ offset: jobsOffset, limit: PAGE_SIZE });
  for (const [key, value] of filters) if (value) query.set(key, value);
  const page = await api(`jobs?${query}`);
  const body = $("jobs-table").tBodies[0];
  body.replaceChildren();
  for (const job of page.jobs) {
    const row = body.insertRow();
    cell(row, link(job.job_id, `#/job/${enc(job.job_id)}`));
    cell(row, statusBadge(job.status));
    cell(row, job.parties.map((p) => `${p.role} ${p.party_id}`).join(", "));
    cell(row, time(job.create_time_ms));
    cell(row, seconds(job.elapsed_ms));
    cell(row, `${job.progress}%`);
    cell(row, job.status_reason);
  }
  const last = Math.min(page.offset + page.jobs.length, page.count);
  $("page-info").textContent = page.count ? `${page.offset + 1}–${last} of ${page.count}` : "no jobs";
  $("prev-page").disabled = page.offset === 0;
  $("next-page").disabled = last >= page.count;
}

// -- job page --------------------------------------------------------------------------------------
const NODE_SIZE = [150, 44];
const COLUMN_PIXELS = 200;
const ROW_PIXELS = 80;

function drawDag(dag, states) {
  const holder = $("dag");
  // Wide or tall DAGs get room (the section scrolls) rather than overlapping nodes.
  const columns = Math.max(0, ...dag.nodes.map((n) => n.column)) + 1;
  const perColumn = {};
  for (const node of dag.nodes) perColumn[node.column] = (perColumn[node.column] || 0) + 1;
  const rows = Math.max(1, ...Object.values(perColumn));
  holder.style.minWidth = `${columns * COLUMN_PIXELS + 100}px`;
  holder.style.height = `${Math.max(320, rows * ROW_PIXELS + 120)}px`;
  const chart = window.board.dag || echarts.init(holder);
  window.board.dag = chart;
  chart.resize();
  const nodes = dag.nodes.map((node) => {
    const state = states[node.name] || node.state;
    return {
      name: node.name, x: node.x, y: node.y, value: state,
      itemStyle: { color: STATE_COLOURS[state] || "#9ca3af" },
      label: { formatter: `${node.name}\n${node.component}` },
    };
  });
  const series = {
    type: "graph", layout: "none", symbol: "roundRect", symbolSize: NODE_SIZE,
    label: { show: true, color: "#fff", lineHeight: 16 }, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 9,
    lineStyle: { color: "#6b7280", width: 1.5 }, data: nodes, links: [],
  };
  chart.setOption({
    animation: false,
    tooltip: { formatter: (p) => (p.dataType === "node" ? `${p.name}: ${p.value}` : p.data.value || "") },
    series: [series],
  });
  // Edges run between the nodes' borders (not their centres, where a node would hide the arrow):
  // the drawn scale is known only once the nodes are placed.
  chart.setOption({ series: [{ ...series, ...withPorts(chart, dag, nodes) }] });
  chart.off("click");
  chart.on("click", (p) => {
    if (p.dataType === "node" && !p.name.startsWith("port:")) {
      location.hash = `#/job/${enc(currentJob.job.job_id)}/task/${enc(p.name)}`;
    }
  });
  holder.dataset.states = JSON.stringify(states);
  window.board.states = states;
}

function withPorts(chart, dag, nodes) {
  const byName = Object.fromEntries(dag.nodes.map((n) => [n.name, n]));
  const edges = dag.edges.filter((e) => byName[e.source] && byName[e.target]);
  const xs = [...new Set(dag.nodes.map((n) => n.x))].sort((a, b) => a - b);
  if (xs.length < 2) return { data: nodes, links: [] };
  const [left] = chart.convertToPixel({ seriesIndex: 0 }, [xs[0], 0]);
  const [right] = chart.convertToPixel({ seriesIndex: 0 }, [xs[1], 0]);
  const half = ((NODE_SIZE[0] / 2 + 1) * (xs[1] - xs[0])) / Math.abs(right - left);
  const ports = new Map();
  const port = (name, side) => {
    const id = `port:${side}:${name}`;
    const node = byName[name];
    ports.set(id, {
      name: id, x: node.x + (side === "out" ? half : -half), y: node.y,
      symbolSize: 0, label: { show: false }, tooltip: { show: false },
    });
    return id;
  };
  const links = edges.map((e) => ({ source: port(e.source, "out"), target: port(e.target, "in"), value: e.label }));
  return { data: [...nodes, ...ports.values()], links };
}

let currentJob = null;

function renderJob(page) {
  currentJob = { ...currentJob, ...page };
  const job = page.job;
  $("job-title").textContent = job.job_id;
  $("job-status").replaceWith(Object.assign(statusBadge(job.status), { id: "job-status" }));
  const parties = job.parties.map((p) => `${p.role} ${p.party_id}`).join(", ");
  $("job-facts").textContent = `${parties} · scheduler ${job.scheduler_party_id} · progress ${job.progress}%` +
    ` · elapsed ${seconds(job.elapsed_ms)}${job.status_reason ? ` · ${job.status_reason}` : ""}` +
    `${page.warning ? ` · ${page.warning}` : ""}`;
  if (currentJob.dag) drawDag(currentJob.dag, page.states);
  const body = $("tasks-table").tBodies[0];
  body.replaceChildren();
  for (const task of page.tasks) {
    const row = body.insertRow();
    const href = `#/job/${enc(job.job_id)}/task/${enc(task.task_name)}/${enc(task.role)}/${enc(task.party_id)}`;
    cell(row, link(task.task_name, href));
    cell(row, task.component);
    cell(row, task.role);
    cell(row, task.party_id);
    cell(row, task.attempt);
    cell(row, statusBadge(task.status));
    cell(row, seconds(task.elapsed_ms));
    cell(row, `${task.progress}%`);
    cell(row, task.error);
  }
}

async function watchJob(jobId) {
  if (watching && watching.jobId === jobId) return;
  if (watching) watching.controller.abort();
  const controller = new AbortController();
  watching = { jobId, controller };
  setLive("live");
  try {
    const response = await fetch(`api/jobs/${enc(jobId)}/watch`, { headers: authHeaders(), signal: controller.signal });
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        handleEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (error) {
    if (error.name !== "AbortError") { showMessage(error); setLive("live view lost"); }
  } finally {
    if (watching && watching.controller === controller) watching = null;
  }
}

function handleEvent(block) {
  let name = "message";
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) name = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  const payload = data ? JSON.parse(data) : {};
  if (name === "view") { renderJob(payload); refreshOpenTask(payload.states); }
  else if (name === "end") setLive("ended");
  else if (name === "failure") { showMessage(payload); setLive("live view lost"); }
}

// The open task follows the job too: while it runs its attempts, metrics (a live loss curve) and log
// are fetched again at each view; when it ends, its outputs as well.
let openTask = null; // {base, taskName, state}

function refreshOpenTask(states) {
  if (!openTask || $("task-view").hidden) return;
  const state = states[openTask.taskName];
  if (state !== "running" && state === openTask.state) return;
  const ended = state !== openTask.state && state !== "running" && state !== "waiting";
  openTask.state = state;
  const base = openTask.base;
  const parts = [showAttempts, showMetrics, showLog, ...(ended ? [showModel, showData] : [])];
  for (const show of parts) section(() => show(base));
}

function setLive(text) {
  window.board.live = text;
  $("live-state").textContent = text === "live" ? "● live" : text === "ended" ? "" : text;
}

async function showJob(jobId, taskName, role, partyId) {
  if (!currentJob || currentJob.job.job_id !== jobId) {
    currentJob = { job: { job_id: jobId } };
    window.board.dag?.dispose();
    window.board.dag = null;
    const page = await api(`jobs/${enc(jobId)}`);
    currentJob = page;
    renderJob(page);
    watchJob(jobId);
  }
  $("task-view").hidden = !taskName;
  if (taskName) await showTask(jobId, taskName, role, partyId);
  else openTask = null;
}

// -- task details ----------------------------------------------------------------------------------
async function showTask(jobId, taskName, role, partyId) {
  const runs = currentJob.tasks.filter((t) => t.task_name === taskName);
  if (!runs.length) throw new ApiError(404, { message: `job ${jobId} has no task ${taskName}` });
  const own = runs.find((t) => t.party_id === currentJob.job.answered_by_party_id) || runs[0];
  const chosen = runs.find((t) => t.role === role && t.party_id === partyId) || own;
  const switcher = $("task-parties");
  switcher.replaceChildren();
  for (const run of runs) {
    const a = link(`${run.role} ${run.party_id}`, `#/job/${enc(jobId)}/task/${enc(taskName)}/${enc(run.role)}/${enc(run.party_id)}`);
    if (run === chosen) a.className = "current";
    switcher.append(a);
  }
  $("task-title").textContent = `${taskName} (${chosen.component}) at ${chosen.role} ${chosen.party_id}`;
  const base = `jobs/${enc(jobId)}/tasks/${enc(chosen.role)}/${enc(chosen.party_id)}/${enc(taskName)}`;
  openTask = { base, taskName, state: currentJob.states[taskName] };
  await Promise.all([
    section(() => showAttempts(base)),
    section(() => showMetrics(base)),
    section(() => showModel(base)),
    section(() => showData(base)),
    section(() => showLog(base)),
  ]);
}

// A section that cannot be shown (e.g. another party's outputs) says why in place, not as a failure.
async function section(show) {
  try { await show(); } catch (error) { showMessage(error); }
}

async function showAttempts(base) {
  const task = await api(base);
  $("task-parameters").textContent = JSON.stringify({ parameters: task.parameters, conf: task.conf, stage: task.stage }, null, 2);
  const body = $("attempts-table").tBodies[0];
  body.replaceChildren();
  for (const attempt of task.attempts) {
    const row = body.insertRow();
    cell(row, attempt.attempt);
    cell(row, statusBadge(attempt.status));
    cell(row, time(attempt.create_time_ms));
    cell(row, time(attempt.start_time_ms));
    cell(row, time(attempt.end_time_ms));
    cell(row, seconds(attempt.elapsed_ms));
    cell(row, `${attempt.progress}%`);
    cell(row, attempt.error);
  }
}

function clearCharts(box) {
  for (const holder of box.querySelectorAll("[data-chart]")) {
    echarts.getInstanceByDom(holder)?.dispose();
    delete window.board.charts[holder.dataset.chart];
  }
  box.replaceChildren();
}

// Answers can overlap (a click, then a live refresh): a box shows only its newest request's answer.
async function latest(box, path) {
  const generation = (box.generation = (box.generation || 0) + 1);
  let answer = null;
  try {
    answer = await api(path);
  } catch (error) {
    if (generation === box.generation) { clearCharts(box); notShown(box, error); }
    return null;
  }
  if (generation !== box.generation) return null;
  clearCharts(box);
  return answer;
}

async function showMetrics(base) {
  const box = $("metric-charts");
  const answer = await latest(box, `${base}/metrics`);
  if (answer) drawCharts(box, answer.charts, "no metric charts for this task");
}

async function showModel(base) {
  const box = $("model-charts");
  const answer = await latest(box, `${base}/model`);
  $("model-document").textContent = "";
  if (!answer) return;
  drawCharts(box, answer.models.flatMap((m) => m.charts), answer.models.length ? "" : "no output model");
  $("model-document").textContent = JSON.stringify(answer.models.map((m) => ({ info: m.info, document: m.document })), null, 2);
}

async function showData(base) {
  const box = $("data-preview");
  const answer = await latest(box, `${base}/data?limit=20`);
  if (!answer) return;
  if (!answer.outputs.length) box.textContent = "no output data";
  for (const output of answer.outputs) {
    const title = document.createElement("div");
    title.textContent = `${output.output_key}: ${output.count} rows (first ${output.rows.length})`;
    box.append(title, table(output.header, output.rows));
  }
}

async function showLog(base) {
  $("log-download").href = `api/${base}/log/download`;
  $("log-refresh").onclick = () => section(() => showLog(base));
  const box = $("task-log");
  const answer = await latest(box, `${base}/log?tail=200`);
  if (!answer) return;
  box.textContent = answer.sources.map((s) => `==> ${s.source} <==\n${s.lines.join("\n")}`).join("\n\n");
}

function notShown(box, error) {
  box.textContent = error.message;
  if (error.status === 401) showMessage(error);
  return null;
}

function table(columns, rows) {
  const t = document.createElement("table");
  t.className = "grid";
  const head = t.createTHead().insertRow();
  for (const column of columns) cell(head, column);
  const body = t.createTBody();
  for (const values of rows) {
    const row = body.insertRow();
    for (const value of values) cell(row, typeof value === "number" ? +value.toFixed(6) : value);
  }
  return t;
}

function drawCharts(box, charts, emptyText) {
  if (!charts.length && emptyText) box.textContent = emptyText;
  for (const chart of charts) {
    if (chart.kind === "table") {
      const holder = document.createElement("div");
      holder.className = "chart-table";
      holder.dataset.chart = chart.id;
      const title = document.createElement("div");
      title.textContent = chart.title;
      holder.append(title, table(chart.columns, chart.rows));
      box.append(holder);
      continue;
    }
    const div = document.createElement("div");
    div.className = "chart";
    div.dataset.chart = chart.id;
    box.append(div);
    const instance = echarts.init(div);
    instance.setOption(chartOption(chart));
    window.board.charts[chart.id] = instance;
  }
}

function chartOption(chart) {
  const common = {
    // Drawn at once: a chart is read, not watched, and a half-drawn frame would mislead a screenshot.
    animation: false,
    title: { text: chart.title, textStyle: { fontSize: 13 } },
    tooltip: { trigger: "axis" },
    legend: { top: 24 },
    grid: { top: 64, left: 56, right: 24, bottom: 48 },
    yAxis: { type: "value", name: chart.y_name, scale: chart.kind === "line" },
  };
  if (chart.kind === "bar") {
    const labels = chart.series.length ? chart.series[0].data.map((d) => d[0]) : [];
    return {
      ...common,
      xAxis: { type: "category", name: chart.x_name, data: labels, axisLabel: { rotate: 45 } },
      series: chart.series.map((s) => ({ type: "bar", name: s.name, data: s.data.map((d) => d[1]) })),
    };
  }
  return {
    ...common,
    xAxis: { type: "value", name: chart.x_name, nameLocation: "middle", nameGap: 28, scale: true },
    series: chart.series.map((s) => ({
      type: "line", name: s.name, data: s.data, showSymbol: s.data.length < 30,
      lineStyle: s.name === "chance" ? { type: "dashed", width: 1 } : undefined,
    })),
  };
}

// -- routing ---------------------------------------------------------------------------------------
async function route() {
  showMessage(null);
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const onJob = parts[0] === "job" && parts[1];
  $("jobs-view").hidden = Boolean(onJob);
  $("job-view").hidden = !onJob;
  try {
    if (onJob) {
      await showJob(parts[1], parts[2] === "task" ? parts[3] : "", parts[4], parts[5]);
    } else {
      if (watching) { watching.controller.abort(); watching = null; }
      currentJob = null;
      await showJobs();
    }
  } catch (error) {
    showMessage(error);
  }
}

async function showNode() {
  try {
    const node = await api("node");
    $("node-info").textContent = `party ${node.party_id} · ${node.user} (${node.auth_method}) · v${node.version}`;
    $("token-form").hidden = node.auth_method !== "token";
  } catch (error) {
    showMessage(error);
  }
}

$("job-filters").addEventListener("submit", (event) => { event.preventDefault(); jobsOffset = 0; route(); });
$("prev-page").addEventListener("click", () => { jobsOffset = Math.max(0, jobsOffset - PAGE_SIZE); route(); });
$("next-page").addEventListener("click", () => { jobsOffset += PAGE_SIZE; route(); });
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
  $("token-input").value = "";
  showNode().then(route);
});
window.addEventListener("hashchange", route);
showNode().then(route);
