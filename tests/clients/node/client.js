// A fate-grpc client in Node.js, written from protos/ alone: upload a table at each party, submit a
// DAG, watch the job to its end, read a task's metrics, and read an error's standard rich status.
//
// Usage: node client.js CONFIG.json   (CONFIG as written by tests/clients/test_node_client.py)
// Prints one JSON document with what it saw. With "mode": "node_info" it only asks one node who it
// is and who it takes the caller to be (over TLS when the party's config has "tls").
"use strict";

const fs = require("fs");
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const protobuf = require("protobufjs");

const CHUNK_BYTES = 1024 * 1024; // the node takes at most 1 MiB of file per upload message
const END_STATUSES = new Set([
  "JOB_STATUS_SUCCESS",
  "JOB_STATUS_FAILED",
  "JOB_STATUS_CANCELED",
  "JOB_STATUS_TIMEOUT",
]);

function loadClientService(protosDir) {
  const definition = protoLoader.loadSync("fate_grpc/client/v1/client.proto", {
    includeDirs: [protosDir],
    keepCase: true, // field names as in the protos (job_id, dag_yaml)
    longs: String, // int64 as decimal text, never a lossy double
    enums: String, // enum values by name (JOB_STATUS_SUCCESS)
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).fate_grpc.client.v1.ClientService;
}

// Calls carry the token as `authorization: Bearer <token>` metadata.
function callMetadata(token) {
  const metadata = new grpc.Metadata();
  if (token) {
    metadata.set("authorization", `Bearer ${token}`);
  }
  return metadata;
}

// A client of one party's node. Over TLS, the node's certificate names it party-<id>.fate-grpc
// (not its address): that is the server name to expect, with the federation's CA as the root.
function partyClient(ClientService, party) {
  if (!party.tls) {
    return new ClientService(party.address, grpc.credentials.createInsecure());
  }
  const read = (file) => (file ? fs.readFileSync(file) : null);
  const credentials = grpc.credentials.createSsl(read(party.tls.ca), read(party.tls.key), read(party.tls.cert));
  return new ClientService(party.address, credentials, {
    "grpc.ssl_target_name_override": party.tls.server_name,
  });
}

function unary(client, method, request, metadata) {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, { deadline: Date.now() + 60000 }, (error, answer) =>
      error ? reject(error) : resolve(answer),
    );
  });
}

// UploadTable is a client stream: a header first, then the file in chunks of at most 1 MiB.
function uploadTable(client, metadata, table) {
  return new Promise((resolve, reject) => {
    const call = client.UploadTable(metadata, (error, answer) => (error ? reject(error) : resolve(answer)));
    call.write({
      header: {
        namespace: table.namespace,
        name: table.name,
        head: true,
        delimiter: ",",
        match_id_name: "id",
        label_name: table.label || "",
        overwrite: true,
        source_file: path.basename(table.file),
      },
    });
    const content = fs.readFileSync(table.file);
    for (let offset = 0; offset < content.length; offset += CHUNK_BYTES) {
      call.write({ chunk: content.subarray(offset, offset + CHUNK_BYTES) });
    }
    call.end();
  });
}

// WatchJob is a server stream: the job's view on every change; it ends when the job does.
function watchJob(client, metadata, jobId) {
  return new Promise((resolve, reject) => {
    const statuses = [];
    let last = null;
    const call = client.WatchJob({ job_id: jobId }, metadata);
    call.on("data", (answer) => {
      last = answer.job;
      if (statuses[statuses.length - 1] !== last.status) {
        statuses.push(last.status);
      }
    });
    call.on("error", reject);
    call.on("end", () => resolve({ statuses, job: last }));
  });
}

// google.protobuf.Value arrives as {kind, <kind>: ...}; this gives the plain JSON value it stands for.
// (proto-loader keeps the well-known types' own camelCase names whatever keepCase says.)
function plainValue(value) {
  const inner = value[value.kind];
  switch (value.kind) {
    case "nullValue":
      return null;
    case "numberValue":
    case "stringValue":
    case "boolValue":
      return inner;
    case "structValue":
      return Object.fromEntries(Object.entries(inner.fields).map(([key, item]) => [key, plainValue(item)]));
    case "listValue":
      return inner.values.map(plainValue);
    default:
      throw new Error(`not a google.protobuf.Value: ${JSON.stringify(value)}`);
  }
}

// The standard rich status of a failed call (grpc-status-details-bin), decoded with Google's
// google/rpc protos: any gRPC client can read the code, the field violations and the hint this way.
function richStatus(error, googleapisDir) {
  const [bytes] = error.metadata.get("grpc-status-details-bin");
  if (!bytes) {
    return null;
  }
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(googleapisDir, target);
  root.loadSync(["google/rpc/status.proto", "google/rpc/error_details.proto"], { keepCase: true });
  const status = root.lookupType("google.rpc.Status").decode(bytes);
  const found = { grpc_code: error.code, code: status.code, message: status.message };
  for (const detail of status.details) {
    const typeName = detail.type_url.split("/").pop();
    const message = root.lookupType(typeName).decode(detail.value);
    if (typeName === "google.rpc.ErrorInfo") {
      found.error_info = { reason: message.reason, domain: message.domain, metadata: message.metadata };
    } else if (typeName === "google.rpc.BadRequest") {
      found.violations = message.field_violations.map((v) => ({ field: v.field, description: v.description }));
    } else if (typeName === "google.rpc.Help") {
      found.hint = message.links.map((link) => link.description).join("; ");
    }
  }
  return found;
}

async function main() {
  const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const ClientService = loadClientService(config.protos);
  if (config.mode === "node_info") {
    const client = partyClient(ClientService, config.guest);
    const info = await unary(client, "GetNodeInfo", {}, callMetadata(config.guest.token));
    client.close();
    process.stdout.write(JSON.stringify(info) + "\n");
    return;
  }
  // A token belongs to one party's node: each node gets its own.
  const metadata = callMetadata(config.guest.token);
  const guest = partyClient(ClientService, config.guest);
  const host = partyClient(ClientService, config.host);
  const seen = {};

  seen.uploaded = [];
  for (const [client, party] of [
    [guest, config.guest],
    [host, config.host],
  ]) {
    const answer = await uploadTable(client, callMetadata(party.token), party.table);
    seen.uploaded.push({ name: answer.table.name, count: answer.table.count });
  }

  const submitted = await unary(guest, "SubmitJob", { dag_yaml: config.dag_yaml }, metadata);
  seen.job_id = submitted.job_id;
  const watched = await watchJob(guest, metadata, submitted.job_id);
  seen.statuses = watched.statuses;
  seen.final_status = watched.job.status;
  if (!END_STATUSES.has(seen.final_status)) {
    throw new Error(`the watch ended before the job did: ${seen.final_status}`);
  }

  const task = { job_id: submitted.job_id, ...config.metric_task };
  const metrics = await unary(guest, "QueryMetrics", { task }, metadata);
  seen.metrics = metrics.metrics.map((metric) => ({
    name: metric.name,
    type: metric.type,
    values: metric.data.map((point) => plainValue(point.metric)),
  }));

  try {
    await unary(guest, "SubmitJob", { dag_yaml: config.bad_dag_yaml }, metadata);
    seen.error = null;
  } catch (error) {
    seen.error = richStatus(error, config.googleapis);
  }
  guest.close();
  host.close();
  process.stdout.write(JSON.stringify(seen) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
