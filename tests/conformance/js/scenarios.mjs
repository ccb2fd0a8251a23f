#!/usr/bin/env node
// Drives the official LM Studio JavaScript SDK (@lmstudio/sdk) against an LM Studio-compatible
// server and prints one JSON line per scenario:
//
//   {"scenario": name, "ok": bool, "result": {...}, "error": "...", "warnings": [...],
//    "client": "<clientIdentifier the SDK authenticated with>", "ms": n}
//
// Usage:
//   node scenarios.mjs <ws://host:port> <scenario|all>[,<scenario>...] [options]
//
// Options:
//   --token TOKEN          API token (default: none; the SDK itself also reads LM_API_TOKEN)
//   --llm KEY              LLM used by the prediction scenarios (default: any loaded LLM)
//   --embedding KEY        embedding model (default: any loaded embedding model)
//   --load-key KEY         LLM that the load/unload scenarios load (default: first downloaded
//                          LLM that is not loaded)
//   --reasoning-key KEY    reasoning LLM for the "reasoning" scenario
//   --vision-key KEY       vision LLM for the "vision" scenario
//   --timeout MS           per-scenario timeout (default 15000)
//   --budget MS            total time; scenarios not started by then are reported as failed
//   --list                 print the scenario names and exit
//
// "warnings" holds everything the SDK logged at warn/error level while the scenario ran (for
// example the zod error of a server message it rejected). The exit code is 0 when every
// scenario passed, 1 otherwise, 2 on a usage error.

import { parseArgs } from "node:util";

import { LMStudioClient, tool } from "@lmstudio/sdk";
import { z } from "zod";

const DEFAULT_TIMEOUT_MS = 15_000;
const DISPOSE_TIMEOUT_MS = 1_000;

// ---------------------------------------------------------------------------------------------
// Helpers

class ScenarioTimeout extends Error {}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new ScenarioTimeout(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function stripAnsi(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

function describeError(error) {
  if (error instanceof Error) {
    const name = error.constructor?.name ?? "Error";
    return stripAnsi(`${name}: ${error.message}`);
  }
  return stripAnsi(String(error));
}

function formatLogArgument(value) {
  if (typeof value === "string") return value;
  if (value instanceof Error) return describeError(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

// Warnings with which a server refuses a request; it never answers such a request.
const REFUSAL_KINDS = [
  "rpcEndpointUnknown",
  "rpcParameterTypeError",
  "channelEndpointUnknown",
  "channelCreationParameterTypeError",
];
const REFUSAL = new RegExp(
  `Received communication warning from the server \\((${REFUSAL_KINDS.join("|")})\\)`,
);

/**
 * A logger for the SDK that keeps warn/error messages and sends everything to stderr.
 * `refused` rejects as soon as the server refuses a request, so that the scenario fails at once
 * instead of waiting for its timeout.
 */
function makeLogger() {
  const warnings = [];
  let recording = true;
  let refuse;
  const refused = new Promise((_, reject) => {
    refuse = reject;
  });
  refused.catch(() => undefined);
  const write = (level, args) => {
    const line = stripAnsi(args.map(formatLogArgument).join(" "));
    process.stderr.write(`[sdk ${level}] ${line}\n`);
    if (!recording || (level !== "warn" && level !== "error")) return;
    warnings.push(line);
    if (REFUSAL.test(line)) {
      refuse(new Error(`the server refused a request: ${line.split("\n")[0]}`));
    }
  };
  return {
    warnings,
    refused,
    stopRecording: () => {
      recording = false;
    },
    logger: {
      debug: (...args) => write("debug", args),
      info: (...args) => write("info", args),
      warn: (...args) => write("warn", args),
      error: (...args) => write("error", args),
    },
  };
}

function vectorNorm(vector) {
  return Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
}

/** The public fields of an LLM / EmbeddingModel handle (plain data for JSON). */
function describeModel(model) {
  const fields = [
    "identifier",
    "modelKey",
    "path",
    "displayName",
    "format",
    "sizeBytes",
    "vision",
    "trainedForToolUse",
    "instanceReference",
    "indexedModelIdentifier",
  ];
  return Object.fromEntries(
    fields.filter((field) => model[field] !== undefined).map((field) => [field, model[field]]),
  );
}

function describeFile({ identifier, type, sizeBytes, name }) {
  return { identifier, type, sizeBytes, name };
}

function describeFragment(fragment) {
  const { content, tokensCount, containsDrafted, reasoningType, isStructural } = fragment;
  return { content, tokensCount, containsDrafted, reasoningType, isStructural };
}

function describePrediction(result) {
  return {
    content: result.content,
    reasoningContent: result.reasoningContent,
    nonReasoningContent: result.nonReasoningContent,
    stats: result.stats,
    modelIdentifier: result.modelInfo.identifier,
    modelKey: result.modelInfo.modelKey,
    roundIndex: result.roundIndex,
    loadConfigKeys: result.loadConfig.fields.map((field) => field.key),
    predictionConfig: result.predictionConfig.fields,
  };
}

async function loadedIdentifiers(namespace) {
  return (await namespace.listLoaded()).map((model) => model.identifier);
}

async function llmFor(client, opts) {
  return opts.llm === undefined ? client.llm.model() : client.llm.model(opts.llm, QUIET);
}

async function embeddingFor(client, opts) {
  return opts.embedding === undefined
    ? client.embedding.model()
    : client.embedding.model(opts.embedding, QUIET);
}

async function pickLoadKey(client, opts) {
  if (opts.loadKey !== undefined) return opts.loadKey;
  const loaded = new Set((await client.llm.listLoaded()).map((model) => model.modelKey));
  const candidate = (await client.system.listDownloadedModels("llm")).find(
    (info) => !loaded.has(info.modelKey),
  );
  if (candidate === undefined) throw new Error("no downloaded LLM is left to load");
  return candidate.modelKey;
}

/** Load options that keep the SDK from printing progress to the console. */
const QUIET = { verbose: false };

/** Settle `promise` within `ms`: its value, its error message, or a note that it hung. */
async function outcome(promise, ms = 3_000) {
  try {
    return { settled: true, value: await withTimeout(promise, ms, "did not settle") };
  } catch (error) {
    if (error instanceof ScenarioTimeout) return { settled: false };
    return { settled: true, error: describeError(error) };
  }
}

// A 1x1 PNG.
const PIXEL_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

const USER_PROMPT = "What is the capital of France? Answer in one short sentence.";

// ---------------------------------------------------------------------------------------------
// Scenarios: each gets a fresh client and returns the observed values.

const scenarios = {
  async version(client) {
    const version = await client.system.getLMStudioVersion();
    const info = await client.system.getInfo();
    await client.system.notify({ title: "JS conformance", description: "Hello from the SDK" });
    return { ...version, info };
  },

  async list_downloaded(client) {
    const all = await client.system.listDownloadedModels();
    const llms = await client.system.listDownloadedModels("llm");
    const embeddings = await client.system.listDownloadedModels("embedding");
    return {
      models: all,
      llmKeys: llms.map((info) => info.modelKey),
      embeddingKeys: embeddings.map((info) => info.modelKey),
    };
  },

  async list_loaded(client) {
    const llms = await client.llm.listLoaded();
    const embeddings = await client.embedding.listLoaded();
    return { llms: llms.map(describeModel), embeddings: embeddings.map(describeModel) };
  },

  async load_with_progress(client, opts) {
    const key = await pickLoadKey(client, opts);
    const progress = [];
    const model = await client.llm.load(key, {
      ...QUIET,
      onProgress: (value) => progress.push(value),
    });
    const loadedAfterLoad = await loadedIdentifiers(client.llm);
    await model.unload();
    const loadedAfterUnload = await loadedIdentifiers(client.llm);
    return { key, progress, model: describeModel(model), loadedAfterLoad, loadedAfterUnload };
  },

  async model_any(client) {
    const llm = await client.llm.model();
    const embedding = await client.embedding.model();
    return { llm: describeModel(llm), embedding: describeModel(embedding) };
  },

  async model_get_or_load(client, opts) {
    const loadedBefore = await loadedIdentifiers(client.llm);
    const alreadyLoaded = await llmFor(client, opts);
    const key = await pickLoadKey(client, opts);
    const progress = [];
    const jitLoaded = await client.llm.model(key, {
      ...QUIET,
      onProgress: (value) => progress.push(value),
    });
    const loadedAfter = await loadedIdentifiers(client.llm);
    // Asking again must return the same instance instead of loading another one.
    const again = await client.llm.model(key, QUIET);
    const loadedAfterAgain = await loadedIdentifiers(client.llm);
    await jitLoaded.unload();
    return {
      loadedBefore,
      alreadyLoaded: describeModel(alreadyLoaded),
      key,
      progress,
      jitLoaded: describeModel(jitLoaded),
      again: describeModel(again),
      loadedAfter,
      loadedAfterAgain,
      loadedAfterUnload: await loadedIdentifiers(client.llm),
    };
  },

  async respond(client, opts) {
    const model = await llmFor(client, opts);
    const messages = [];
    const result = await model.respond(
      [
        { role: "system", content: "You are a terse assistant." },
        { role: "user", content: USER_PROMPT },
      ],
      { temperature: 0, maxTokens: 64, onMessage: (message) => messages.push(message.getText()) },
    );
    return { model: describeModel(model), ...describePrediction(result), onMessage: messages };
  },

  async complete(client, opts) {
    const model = await llmFor(client, opts);
    const result = await model.complete("The three primary colors are", {
      maxTokens: 24,
      temperature: 0,
    });
    return { model: describeModel(model), ...describePrediction(result) };
  },

  async streaming(client, opts) {
    const model = await llmFor(client, opts);
    const firstTokens = [];
    const prediction = model.respond([{ role: "user", content: "Tell me about lighthouses." }], {
      maxTokens: 48,
      onFirstToken: () => firstTokens.push(Date.now()),
    });
    const fragments = [];
    for await (const fragment of prediction) fragments.push(describeFragment(fragment));
    const result = await prediction.result();
    return {
      fragments,
      joined: fragments.map((fragment) => fragment.content).join(""),
      firstTokenCallbacks: firstTokens.length,
      ...describePrediction(result),
    };
  },

  async structured_json_schema(client, opts) {
    const model = await llmFor(client, opts);
    const jsonSchema = {
      type: "object",
      properties: {
        city: { type: "string" },
        population: { type: "integer" },
        landmarks: { type: "array", items: { type: "string" } },
      },
      required: ["city", "population", "landmarks"],
    };
    const result = await model.respond([{ role: "user", content: "Describe Paris as JSON." }], {
      structured: { type: "json", jsonSchema },
      maxTokens: 200,
    });
    return { jsonSchema, parsed: JSON.parse(result.content), ...describePrediction(result) };
  },

  async structured_zod(client, opts) {
    const model = await llmFor(client, opts);
    const schema = z.object({
      title: z.string(),
      year: z.number().int(),
      genres: z.array(z.string()),
      inPrint: z.boolean(),
    });
    const result = await model.respond([{ role: "user", content: "Describe a classic novel." }], {
      structured: schema,
      maxTokens: 200,
    });
    // The SDK parsed the content with the zod schema; check that independently as well.
    const check = schema.safeParse(JSON.parse(result.content));
    return {
      parsed: result.parsed,
      zodAccepts: check.success,
      ...describePrediction(result),
    };
  },

  async act_tool(client, opts) {
    const model = await llmFor(client, opts);
    const calls = [];
    const addTool = tool({
      name: "add",
      description: "Add two integers and return their sum.",
      parameters: { a: z.number().int(), b: z.number().int() },
      implementation: ({ a, b }) => {
        calls.push({ a, b });
        return a + b;
      },
    });
    const messages = [];
    const requests = [];
    const roundsStarted = [];
    const actResult = await model.act(
      [{ role: "user", content: "What is 12 + 30? Use the add tool." }],
      [addTool],
      {
        maxPredictionRounds: 4,
        onRoundStart: (round) => roundsStarted.push(round),
        onToolCallRequestEnd: (round, callId, info) =>
          requests.push({ round, callId, request: info.toolCallRequest }),
        onMessage: (message) =>
          messages.push({
            role: message.getRole(),
            text: message.getText(),
            toolCallRequests: message.getToolCallRequests(),
            toolCallResults: message.getToolCallResults(),
          }),
      },
    );
    const last = messages.at(-1);
    return {
      calls,
      requests,
      rounds: actResult.rounds,
      roundsStarted,
      messages,
      finalText: last?.role === "assistant" ? last.text : null,
    };
  },

  async tool_call_streaming(client, opts) {
    const model = await llmFor(client, opts);
    const events = [];
    const rawTools = {
      type: "toolArray",
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Current weather of a city.",
            parameters: {
              type: "object",
              properties: { city: { type: "string" } },
              required: ["city"],
            },
          },
        },
      ],
    };
    const result = await model.respond(
      [{ role: "user", content: "What is the weather in Paris? Use the get_weather tool." }],
      {
        rawTools,
        onToolCallRequestStart: (callId, info) => events.push({ event: "start", callId, ...info }),
        onToolCallRequestNameReceived: (callId, name) =>
          events.push({ event: "name", callId, name }),
        onToolCallRequestArgumentFragmentGenerated: (callId, content) =>
          events.push({ event: "arguments", callId, content }),
        onToolCallRequestEnd: (callId, info) =>
          events.push({ event: "end", callId, toolCallRequest: info.toolCallRequest }),
        onToolCallRequestFailure: (callId, error) =>
          events.push({ event: "failure", callId, error: describeError(error) }),
      },
    );
    return { events, ...describePrediction(result) };
  },

  async cancel(client, opts) {
    const model = await llmFor(client, opts);
    const prediction = model.respond(
      [{ role: "user", content: "Write a very long story about the sea." }],
      { maxTokens: 2000 },
    );
    const fragments = [];
    let before = 0;
    let after = 0;
    let cancelled = false;
    for await (const fragment of prediction) {
      fragments.push(fragment.content);
      if (cancelled) {
        after += 1;
        continue;
      }
      before += 1;
      if (fragment.content !== "" && before >= 2) {
        await prediction.cancel();
        cancelled = true;
      }
    }
    const result = await prediction.result();
    return {
      fragmentsBeforeCancel: before,
      fragmentsAfterCancel: after,
      joined: fragments.join(""),
      ...describePrediction(result),
    };
  },

  async embed(client, opts) {
    const model = await embeddingFor(client, opts);
    const texts = ["The cat sat on the mat.", "A dog barked at the mailman.", "The cat sat."];
    const single = await model.embed(texts[0]);
    const many = await model.embed(texts);
    return {
      model: describeModel(model),
      texts,
      single: single.embedding,
      singleNorm: vectorNorm(single.embedding),
      many: many.map((item) => item.embedding),
      manyNorms: many.map((item) => vectorNorm(item.embedding)),
    };
  },

  async tokenize(client, opts) {
    const llm = await llmFor(client, opts);
    const embedding = await embeddingFor(client, opts);
    const text = "Hello world, this is a tokenizer test with 12345 digits!";
    const list = ["first string", "second, longer string", ""];
    return {
      text,
      list,
      llmModel: llm.identifier,
      embeddingModel: embedding.identifier,
      llmTokens: await llm.tokenize(text),
      llmListTokens: await llm.tokenize(list),
      llmCount: await llm.countTokens(text),
      embeddingTokens: await embedding.tokenize(text),
      embeddingCount: await embedding.countTokens(text),
    };
  },

  async context_length(client, opts) {
    const llm = await llmFor(client, opts);
    const embedding = await embeddingFor(client, opts);
    return {
      llm: await llm.getContextLength(),
      llmInfoContextLength: (await llm.getModelInfo()).contextLength,
      llmMaxContextLength: (await llm.getModelInfo()).maxContextLength,
      embedding: await embedding.getContextLength(),
      embeddingInfoContextLength: (await embedding.getModelInfo()).contextLength,
    };
  },

  async model_info(client, opts) {
    const llm = await llmFor(client, opts);
    const embedding = await embeddingFor(client, opts);
    return {
      llm: await llm.getModelInfo(),
      embedding: await embedding.getModelInfo(),
      llmLoadConfig: await llm.getLoadConfig(),
      embeddingLoadConfig: await embedding.getLoadConfig(),
      basePredictionConfig: await llm.getBasePredictionConfig(),
    };
  },

  async dynamic_handle(client, opts) {
    // Handles built from a query resolve on the server at every call.
    const model = await llmFor(client, opts);
    const byIdentifier = client.llm.createDynamicHandle(model.identifier);
    const repo = model.path.split("/").slice(0, 2).join("/");
    const byPath = client.llm.createDynamicHandle({ path: repo });
    const result = await byPath.respond("Say something short.", { maxTokens: 16 });
    const missing = client.llm.createDynamicHandle("no-such-identifier");
    return {
      identifier: model.identifier,
      repo,
      byIdentifier: await byIdentifier.getModelInfo(),
      byPath: await byPath.getModelInfo(),
      byPathCount: await byPath.countTokens("one two three"),
      missingInfo: (await missing.getModelInfo()) ?? null,
      missingRespond: await outcome(missing.respond("Hello?").result()),
      ...describePrediction(result),
    };
  },

  async repository(client) {
    const entries = await client.repository.searchModels({ searchTerm: "qwen", limit: 5 });
    if (entries.length === 0) return { entries: [] };
    const options = await entries[0].getDownloadOptions();
    const chosen = options.find((option) => option.isRecommended()) ?? options[0];
    const progress = [];
    let finalizing = 0;
    const modelKey = await chosen.download({
      onProgress: (update) => progress.push(update),
      onStartFinalizing: () => (finalizing += 1),
    });
    const downloaded = await client.system.listDownloadedModels();
    return {
      entries: entries.map((entry) => ({
        name: entry.name,
        exact: entry.isExactMatch(),
        staffPick: entry.isStaffPick(),
      })),
      options: options.map((option) => ({
        name: option.name,
        quantization: option.quantization,
        sizeBytes: option.sizeBytes,
        fitEstimation: option.fitEstimation,
        indexedModelIdentifier: option.indexedModelIdentifier,
        compatibilityType: option.compatibilityType,
        recommended: option.isRecommended(),
      })),
      chosen: chosen.name,
      progress,
      finalizing,
      modelKey,
      downloadedKeys: downloaded.map((info) => info.modelKey),
    };
  },

  async apply_prompt_template(client, opts) {
    const llm = await llmFor(client, opts);
    const formatted = await llm.applyPromptTemplate([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello there" },
    ]);
    return { formatted };
  },

  async unload(client, opts) {
    const key = await pickLoadKey(client, opts);
    const identifier = "js-conformance-unload";
    const model = await client.llm.load(key, { ...QUIET, identifier });
    const loadedBefore = await loadedIdentifiers(client.llm);
    await client.llm.unload(identifier);
    const loadedAfter = await loadedIdentifiers(client.llm);
    let unloadAgainError = null;
    try {
      await client.llm.unload(identifier);
    } catch (error) {
      unloadAgainError = describeError(error);
    }
    return { key, model: describeModel(model), loadedBefore, loadedAfter, unloadAgainError };
  },

  async reasoning(client, opts) {
    if (opts.reasoningKey === undefined) {
      throw new Error("the reasoning scenario needs --reasoning-key");
    }
    const wasLoaded = (await client.llm.listLoaded()).some(
      (model) => model.modelKey === opts.reasoningKey,
    );
    const model = await client.llm.model(opts.reasoningKey, QUIET);
    const prediction = model.respond([{ role: "user", content: "Is 17 a prime number?" }], {
      maxTokens: 200,
    });
    const fragments = [];
    for await (const fragment of prediction) fragments.push(describeFragment(fragment));
    const result = await prediction.result();
    if (!wasLoaded) await model.unload();
    return { fragments, ...describePrediction(result) };
  },

  async diagnostics_logs(client, opts) {
    const model = await llmFor(client, opts);
    const events = [];
    const stop = client.diagnostics.unstable_streamLogs((event) => events.push(event));
    // The subscription travels on its own socket and is never acknowledged: predict until the
    // stream shows a prediction (normally the first one does).
    const prompt = "Diagnostics probe: say hi.";
    let predictions = 0;
    let content = null;
    const sawInput = () => events.some((event) => event.data?.type === "llm.prediction.input");
    while (!sawInput() && predictions < 5) {
      await sleep(100 * predictions);
      content = (await model.respond([{ role: "user", content: prompt }], { maxTokens: 16 }))
        .content;
      predictions += 1;
      const deadline = Date.now() + 1_000;
      while (!sawInput() && Date.now() < deadline) await sleep(20);
    }
    stop();
    return { prompt, predictions, model: describeModel(model), events, content };
  },

  async vision(client, opts) {
    if (opts.visionKey === undefined) throw new Error("the vision scenario needs --vision-key");
    const image = await client.files.prepareImageBase64("pixel.png", PIXEL_PNG_BASE64);
    const text = await client.files.prepareFileBase64(
      "notes.txt",
      Buffer.from("Plain text notes.").toString("base64"),
    );
    const wasLoaded = (await client.llm.listLoaded()).some((m) => m.modelKey === opts.visionKey);
    const visionModel = await client.llm.model(opts.visionKey, QUIET);
    const chat = [{ role: "user", content: "Describe this image.", images: [image] }];
    const result = await visionModel.respond(chat, { maxTokens: 32 });
    const textOnlyModel = await llmFor(client, opts);
    const rejected = await outcome(textOnlyModel.respond(chat, { maxTokens: 32 }).result());
    if (!wasLoaded) await visionModel.unload();
    return {
      image: describeFile(image),
      text: describeFile(text),
      visionModel: describeModel(visionModel),
      textOnlyModel: describeModel(textOnlyModel),
      textOnlyModelOutcome: rejected,
      ...describePrediction(result),
    };
  },

  async model_errors(client, opts) {
    const loadUnknown = await outcome(client.llm.load("no-such-model-key", QUIET));
    const getUnknown = await outcome(client.llm.model("no-such-model-key", QUIET));
    const unloadUnknown = await outcome(client.llm.unload("no-such-identifier"));
    // A handle is bound to its instance: after an unload it must fail, not hang.
    const key = await pickLoadKey(client, opts);
    const model = await client.llm.load(key, { ...QUIET, identifier: "js-conformance-stale" });
    await model.unload();
    const staleRespond = await outcome(model.respond("Hello?").result());
    const staleInfo = await outcome(model.getModelInfo());
    return { loadUnknown, getUnknown, unloadUnknown, staleRespond, staleInfo };
  },

  async stop_reasons(client, opts) {
    // Run with a scripted first reply that contains "STOP".
    const model = await llmFor(client, opts);
    const stopped = await model.respond("Q?", { stopStrings: ["STOP"] });
    const limited = await model.respond("Tell me a long story.", { maxTokens: 4 });
    return { stopped: describePrediction(stopped), limited: describePrediction(limited) };
  },

  async prediction_error(client, opts) {
    // Run against a server armed to fail the next prediction (at once or mid-stream).
    const model = await llmFor(client, opts);
    const fragments = [];
    const prediction = model.respond("Tell me a story.", { maxTokens: 64 });
    const settled = await outcome(
      (async () => {
        for await (const fragment of prediction) fragments.push(fragment.content);
        return describePrediction(await prediction.result());
      })(),
    );
    return { ...settled, fragments };
  },

  async auth(client) {
    // Run with --token (or LM_API_TOKEN); reports whether the server let the client in.
    try {
      const models = await client.system.listDownloadedModels();
      return { accepted: true, modelCount: models.length };
    } catch (error) {
      return { accepted: false, error: describeError(error) };
    }
  },
};

// Scenarios run by "all": everything but those that need a specially prepared server.
const NOT_IN_ALL = new Set(["auth", "prediction_error", "repository", "stop_reasons"]);
const ALL = Object.keys(scenarios).filter((name) => !NOT_IN_ALL.has(name));

// ---------------------------------------------------------------------------------------------
// Runner

async function runScenario(name, opts) {
  const { warnings, refused, stopRecording, logger } = makeLogger();
  const started = performance.now();
  const line = { scenario: name, ok: false, result: null, error: null, warnings, client: null };
  let client = null;
  try {
    client = new LMStudioClient({
      baseUrl: opts.baseUrl,
      logger,
      verboseErrorMessages: false,
      ...(opts.token === undefined ? {} : { apiToken: opts.token }),
    });
    line.client = client.clientIdentifier;
    line.result = await withTimeout(
      Promise.race([scenarios[name](client, opts), refused]),
      opts.timeoutMs,
      `timed out after ${opts.timeoutMs} ms (a promise of the SDK never settled)`,
    );
    line.ok = true;
  } catch (error) {
    line.error = describeError(error);
  } finally {
    stopRecording();
    if (client !== null) {
      // Disposing waits for open channels; a stuck scenario must not block the next one.
      await withTimeout(client[Symbol.asyncDispose](), DISPOSE_TIMEOUT_MS, "dispose").catch(
        () => undefined,
      );
    }
  }
  line.ms = Math.round(performance.now() - started);
  return line;
}

function usage(message) {
  process.stderr.write(
    `${message}\nusage: node scenarios.mjs <ws://host:port> <scenario|all>[,...] [options]\n`,
  );
  process.exit(2);
}

function notRun(name) {
  const error = "not run: --budget exhausted";
  return { scenario: name, ok: false, result: null, error, warnings: [], client: null, ms: 0 };
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      token: { type: "string" },
      llm: { type: "string" },
      embedding: { type: "string" },
      "load-key": { type: "string" },
      "reasoning-key": { type: "string" },
      "vision-key": { type: "string" },
      timeout: { type: "string" },
      budget: { type: "string" },
      list: { type: "boolean" },
    },
  });
  if (values.list) {
    process.stdout.write(`${Object.keys(scenarios).join("\n")}\n`);
    process.exit(0);
  }
  const [baseUrl, selection] = positionals;
  if (baseUrl === undefined || selection === undefined) usage("missing arguments");
  const names = selection.split(",").flatMap((name) => (name === "all" ? ALL : [name]));
  const unknown = names.filter((name) => !(name in scenarios));
  if (unknown.length > 0) usage(`unknown scenario(s): ${unknown.join(", ")}`);
  const opts = {
    baseUrl,
    token: values.token,
    llm: values.llm,
    embedding: values.embedding,
    loadKey: values["load-key"],
    reasoningKey: values["reasoning-key"],
    visionKey: values["vision-key"],
    timeoutMs: values.timeout === undefined ? DEFAULT_TIMEOUT_MS : Number(values.timeout),
  };
  const deadline = values.budget === undefined ? Infinity : Date.now() + Number(values.budget);
  let allOk = true;
  for (const name of names) {
    const line = Date.now() < deadline ? await runScenario(name, opts) : notRun(name);
    allOk &&= line.ok;
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  process.exit(allOk ? 0 : 1);
}

// A promise the SDK rejects after its scenario gave up on it must not end the whole run.
process.on("unhandledRejection", (reason) => {
  process.stderr.write(`unhandled rejection: ${describeError(reason)}\n`);
});

main().catch((error) => {
  process.stderr.write(`${describeError(error)}\n`);
  process.exit(2);
});
